"""slotlink.Error: every failure, with the stable SLOTLINK_ERR_* code the other clients use."""
from __future__ import annotations

from ._lib import lib


class Error(Exception):
    """A slotlink failure. ``code`` is a stable string such as ``"SLOTLINK_ERR_NO_ROUTE"``;
    ``message`` says what was wrong and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


def code_name(code: int) -> str:
    """The SLOTLINK_* name of a libslotlink result code."""
    return lib.slotlink_code_name(code).decode()


def code_number(name: str) -> int:
    """The libslotlink result code named ``name``; SLOTLINK_ERR_REMOTE's for a name it does not know."""
    return lib.slotlink_code_from_name(name.encode())


def last_error(code: int) -> Error:
    """The Error for result ``code``, with this thread's last message from libslotlink."""
    return Error(code_name(code), lib.slotlink_last_error().decode("utf-8", "replace"))
