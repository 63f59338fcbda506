<?php
/*
 * libslotlink from PHP through FFI (PHP >= 7.4 with the FFI extension; the CLI allows it
 * by default). The declarations are the part of clients/c/slotlink.h this example uses.
 * The library: $SLOTLINK_LIBRARY, else clients/c/libslotlink.so (make -C clients/c).
 */
declare(strict_types=1);

const SLOTLINK_OK = 0;
const SLOTLINK_AGAIN = 1;

function slotlink_ffi(): FFI
{
    $lib = getenv('SLOTLINK_LIBRARY') ?: __DIR__ . '/../c/libslotlink.so';
    return FFI::cdef(<<<'C'
        typedef struct slotlink slotlink;
        typedef struct slotlink_message {
          const char *from; const void *data; size_t len; int is_request; uint32_t request_id;
          int kind; const char *subject; uint32_t subscription_id;
        } slotlink_message;
        typedef struct slotlink_subscribe_options { int policy; size_t max_queued_bytes; int timeout_ms; } slotlink_subscribe_options;
        const char *slotlink_code_name(int code);
        const char *slotlink_last_error(void);
        int slotlink_connect(slotlink **out, const char *name, int group, const char *socket);
        const char *slotlink_address(const slotlink *ep);
        int slotlink_send(slotlink *ep, const char *to, const void *data, size_t len, int flags);
        int slotlink_request(slotlink *ep, const char *to, const void *data, size_t len, int timeout_ms, void **reply, size_t *reply_len);
        void slotlink_free(void *p);
        int slotlink_receive(slotlink *ep, slotlink_message **msg, int timeout_ms);
        void slotlink_message_free(slotlink_message *msg);
        int slotlink_reply(slotlink *ep, const slotlink_message *request, const void *data, size_t len, int flags);
        int slotlink_close(slotlink *ep);
        int slotlink_publish(slotlink *ep, const char *subject, const void *data, size_t len, int flags);
        int slotlink_subscribe(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, uint32_t *id);
        int slotlink_unsubscribe(slotlink *ep, uint32_t id);
        C, $lib);
}

/** A slotlink failure: getMessage() says what and what to do, $code is SLOTLINK_ERR_*. */
final class SlotlinkError extends RuntimeException
{
    public function __construct(public readonly string $slotlinkCode, string $message)
    {
        parent::__construct("$message ($slotlinkCode)");
    }
}

final class Slotlink
{
    private FFI $ffi;
    private FFI\CData $ep;

    public function __construct(string $name, ?string $socket = null)
    {
        $this->ffi = slotlink_ffi();
        $this->ep = $this->ffi->new('slotlink*');
        $this->check($this->ffi->slotlink_connect(FFI::addr($this->ep), $name, 0, $socket));
    }

    public function address(): string
    {
        return $this->ffi->slotlink_address($this->ep); // const char * comes back as a PHP string
    }

    public function send(string $to, string $data): void
    {
        $this->check($this->ffi->slotlink_send($this->ep, $to, $data, strlen($data), 0));
    }

    public function request(string $to, string $data, int $timeoutMs = 5000): string
    {
        $reply = $this->ffi->new('void*');
        $len = $this->ffi->new('size_t');
        $this->check($this->ffi->slotlink_request($this->ep, $to, $data, strlen($data), $timeoutMs, FFI::addr($reply), FFI::addr($len)));
        $out = $len->cdata > 0 ? FFI::string($reply, $len->cdata) : '';
        $this->ffi->slotlink_free($reply);
        return $out;
    }

    /** Waits up to $timeoutMs for one message; answers it with $answer($data) if it is a request. Null on timeout. */
    public function serveOne(callable $answer, int $timeoutMs): ?string
    {
        $msg = $this->ffi->new('slotlink_message*');
        $rc = $this->ffi->slotlink_receive($this->ep, FFI::addr($msg), $timeoutMs);
        if ($rc === SLOTLINK_AGAIN) return null;
        $this->check($rc);
        $data = FFI::string($msg->data, $msg->len);
        if ($msg->is_request) {
            $reply = $answer($data);
            $this->check($this->ffi->slotlink_reply($this->ep, $msg, $reply, strlen($reply), 0));
        }
        $this->ffi->slotlink_message_free($msg);
        return $data;
    }

    /** Publishes $data to $subject (tokens separated by dots, no wildcards). */
    public function publish(string $subject, string $data): void
    {
        $this->check($this->ffi->slotlink_publish($this->ep, $subject, $data, strlen($data), 0));
    }

    /** Subscribes to $pattern ("*" matches one token, a last ">" the rest); its id, once the proxy has it in effect. */
    public function subscribe(string $pattern): int
    {
        $id = $this->ffi->new('uint32_t');
        $this->check($this->ffi->slotlink_subscribe($this->ep, $pattern, null, FFI::addr($id)));
        return $id->cdata;
    }

    public function unsubscribe(int $id): void
    {
        $this->check($this->ffi->slotlink_unsubscribe($this->ep, $id));
    }

    /** The next message (a publication: 'subject' and 'subscription' set), waiting up to $timeoutMs; null on timeout. Requests are not answered. */
    public function receive(int $timeoutMs): ?array
    {
        $msg = $this->ffi->new('slotlink_message*');
        $rc = $this->ffi->slotlink_receive($this->ep, FFI::addr($msg), $timeoutMs);
        if ($rc === SLOTLINK_AGAIN) return null;
        $this->check($rc);
        $out = ['from' => FFI::string($msg->from), 'data' => FFI::string($msg->data, $msg->len), 'subject' => $msg->subject === null ? null : FFI::string($msg->subject), 'subscription' => $msg->subscription_id];
        $this->ffi->slotlink_message_free($msg);
        return $out;
    }

    public function close(): void
    {
        $this->ffi->slotlink_close($this->ep);
    }

    private function check(int $rc): void
    {
        if ($rc !== SLOTLINK_OK) {
            throw new SlotlinkError($this->ffi->slotlink_code_name($rc), $this->ffi->slotlink_last_error());
        }
    }
}
