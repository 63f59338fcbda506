"""Loads libslotlink with ctypes and declares the prototypes of slotlink.h."""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib.machinery
import os
from pathlib import Path

SLOTLINK_OK = 0
SLOTLINK_AGAIN = 1
SLOTLINK_MORE = 1
MAX_ADDRESS = 255
KIND_SEND = 1
KIND_REQUEST = 2
KIND_PUBLISH = 5
POLICY_BLOCK = 0
POLICY_DROP_OLDEST = 1


class MessageStruct(ctypes.Structure):
    """slotlink_message."""

    _fields_ = [
        ("sender", ctypes.c_char_p),
        ("data", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("is_request", ctypes.c_int),
        ("request_id", ctypes.c_uint32),
        ("kind", ctypes.c_int),
        ("subject", ctypes.c_char_p),
        ("subscription_id", ctypes.c_uint32),
    ]


class SubscribeOptions(ctypes.Structure):
    """slotlink_subscribe_options."""

    _fields_ = [("policy", ctypes.c_int), ("max_queued_bytes", ctypes.c_size_t), ("timeout_ms", ctypes.c_int)]


class Options(ctypes.Structure):
    """slotlink_options."""

    _fields_ = [
        ("socket", ctypes.c_char_p),
        ("group", ctypes.c_int),
        ("timeout_ms", ctypes.c_int),
        ("max_inbox_bytes", ctypes.c_size_t),
        ("protocol_version", ctypes.c_int),
    ]


class Undeliverable(ctypes.Structure):
    """slotlink_undeliverable."""

    _fields_ = [("to", ctypes.c_char * (MAX_ADDRESS + 1)), ("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class Stats(ctypes.Structure):
    """slotlink_stats."""

    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "messages_out", "bytes_out", "messages_in", "bytes_in", "cells_out", "cells_in",
            "doorbells_rung", "writer_waits", "pending_requests", "inbox_bytes",
        )
    ]


def _candidates() -> list[str]:
    """Where libslotlink may be, in order: $SLOTLINK_LIBRARY, inside this package, a source checkout, the system."""
    here = Path(__file__).resolve().parent
    found = []
    env = os.environ.get("SLOTLINK_LIBRARY")
    if env:
        return [env]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        found.append(str(here / f"_libslotlink{suffix}"))
    found.append(str(here.parent.parent / "c" / "libslotlink.so"))
    system = ctypes.util.find_library("slotlink")
    if system:
        found.append(system)
    return found


def _load() -> ctypes.CDLL:
    problems = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            problems.append(f"{path}: not there")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as err:
            problems.append(f"{path}: {err}")
    raise ImportError(
        "slotlink: libslotlink could not be loaded (%s): install the package with "
        "`pip install --no-build-isolation ./clients/python`, or build it with `make -C clients/c` "
        "and set SLOTLINK_LIBRARY to clients/c/libslotlink.so" % "; ".join(problems)
    )


lib = _load()

_P = ctypes.c_void_p
_int = ctypes.c_int
_size = ctypes.c_size_t
_str = ctypes.c_char_p


def _declare(name: str, restype, *argtypes) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_declare("slotlink_code_name", _str, _int)
_declare("slotlink_code_from_name", _int, _str)
_declare("slotlink_last_error", _str)
_declare("slotlink_connect_ex", _int, ctypes.POINTER(_P), _str, ctypes.POINTER(Options))
_declare("slotlink_address", _str, _P)
_declare("slotlink_node", _str, _P)
_declare("slotlink_max_message_bytes", _size, _P)
_declare("slotlink_send", _int, _P, _str, ctypes.c_char_p, _size, _int)
_declare("slotlink_try_send", _int, _P, _str, ctypes.c_char_p, _size, _int)
_declare("slotlink_flush", _int, _P)
_declare("slotlink_request", _int, _P, _str, ctypes.c_char_p, _size, _int, ctypes.POINTER(_P), ctypes.POINTER(_size))
_declare("slotlink_request_start", _int, _P, _str, ctypes.c_char_p, _size, _int, ctypes.POINTER(ctypes.c_uint32))
_declare("slotlink_request_result", _int, _P, ctypes.c_uint32, ctypes.POINTER(_P), ctypes.POINTER(_size))
_declare("slotlink_request_cancel", None, _P, ctypes.c_uint32)
_declare("slotlink_free", None, _P)
_declare("slotlink_receive", _int, _P, ctypes.POINTER(ctypes.POINTER(MessageStruct)), _int)
_declare("slotlink_message_free", None, ctypes.POINTER(MessageStruct))
_declare("slotlink_receive_many", _int, _P, ctypes.POINTER(ctypes.POINTER(MessageStruct)), _size, ctypes.POINTER(_size), _int)
_declare("slotlink_messages_free", None, ctypes.POINTER(ctypes.POINTER(MessageStruct)), _size)
_declare("slotlink_reply", _int, _P, ctypes.POINTER(MessageStruct), ctypes.c_char_p, _size, _int)
_declare("slotlink_reply_error", _int, _P, ctypes.POINTER(MessageStruct), _int, _str, _int)
_declare("slotlink_next_undeliverable", _int, _P, ctypes.POINTER(Undeliverable))
_declare("slotlink_fd", _int, _P)
_declare("slotlink_process", _int, _P)
_declare("slotlink_end_code", _int, _P)
_declare("slotlink_get_stats", None, _P, ctypes.POINTER(Stats))
_declare("slotlink_close", _int, _P)
_declare("slotlink_publish", _int, _P, _str, ctypes.c_char_p, _size, _int)
_declare("slotlink_try_publish", _int, _P, _str, ctypes.c_char_p, _size, _int)
_declare("slotlink_subscribe", _int, _P, _str, ctypes.POINTER(SubscribeOptions), ctypes.POINTER(ctypes.c_uint32))
_declare("slotlink_subscribe_start", _int, _P, _str, ctypes.POINTER(SubscribeOptions), ctypes.POINTER(ctypes.c_uint32))
_declare("slotlink_subscription_status", _int, _P, ctypes.c_uint32)
_declare("slotlink_unsubscribe", _int, _P, ctypes.c_uint32)
_declare("slotlink_subscription_dropped", ctypes.c_uint64, _P, ctypes.c_uint32)
_declare("slotlink_publications_ignored", ctypes.c_uint64, _P)
