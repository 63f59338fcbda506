<?php
/*
 * A PHP worker over libslotlink: asks the proxy and a worker named TO, publishes to a
 * subject it subscribed to and takes the publication back, then answers one request.
 * Usage: php example.php SOCKET NAME TO
 */
declare(strict_types=1);
require __DIR__ . '/slotlink.php';

[$_, $socket, $name, $to] = $argv + [null, null, 'php-worker', 'echo'];
$ep = new Slotlink($name, $socket);
echo "registered as ", $ep->address(), "\n";
echo "~proxy: ", $ep->request('~proxy', 'ping'), "\n";
echo "$to: ", $ep->request($to, 'hello from php'), "\n";
try {
    $ep->request('nobody', 'anyone?');
} catch (SlotlinkError $e) {
    echo "nobody: ", $e->slotlinkCode, "\n";
}
$id = $ep->subscribe('php.*.news');
$ep->publish('php.eu.news', 'hello subscribers');
$pub = $ep->receive(5000);
echo "{$pub['subject']}: {$pub['data']}", $pub['subscription'] === $id ? '' : ' (wrong subscription)', "\n";
$ep->unsubscribe($id);
echo "ready\n";
$got = $ep->serveOne(fn (string $data): string => "php got: $data", 10000);
echo "served: ", $got ?? '(nothing)', "\n";
$ep->close();
