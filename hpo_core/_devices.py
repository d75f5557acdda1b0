"""Device slots for ``optimize(devices=..., trials_per_device=...)``: parsing and cleanup.

A device is ``"cpu"`` or ``"cuda:N"``. ``devices`` times ``trials_per_device`` gives the
*slots*, taken round-robin over the devices (``["cuda:0", "cuda:1"]`` with two trials per
device: ``cuda:0, cuda:1, cuda:0, cuda:1``); each running trial holds one slot.

What a device means depends on where the objective runs:

- threads share the driver's process, so nothing can be hidden: the trial gets the
  name as given in ``trial.device`` and the objective places its tensors there;
- a worker process or Ray task starts with ``CUDA_VISIBLE_DEVICES`` set to the slot's
  GPU (``"cuda:1"`` -> ``"1"``), so it sees exactly that GPU, as ``cuda:0``, which is
  what its ``trial.device`` says; ``"cpu"`` hides every GPU (``CUDA_VISIBLE_DEVICES=""``).

The name given in ``devices`` is recorded in the trial's system attributes (``device``).
Availability is not checked here (that would import torch in the driver, which may have
no GPU itself): a ``"cuda:N"`` that does not exist fails inside the objective.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from hpo_core._validation import check_int, format_error

__all__ = ["device_slots", "free_cuda_cache", "is_out_of_memory", "local_device", "visible_devices"]

_DEVICE = re.compile(r"^(cpu|cuda:(\d+))$")
_ALLOWED = "a non-empty list of device names, each 'cpu' or 'cuda:N'"


def device_slots(devices: Any, trials_per_device: Any) -> list[str] | None:
    """Validate ``devices`` and ``trials_per_device``; return the slots, or None without devices.

    Raises:
        TypeError: ``devices`` is not a list or tuple of str, or ``trials_per_device``
            is not an int.
        ValueError: an unknown device name, an empty list, ``trials_per_device < 1``, or
            ``trials_per_device`` other than 1 without ``devices``.
    """
    tpd = check_int("trials_per_device", trials_per_device, low=1)
    assert tpd is not None
    if devices is None:
        if tpd != 1:
            raise ValueError(format_error("trials_per_device", "1 when `devices` is None", trials_per_device))
        return None
    if isinstance(devices, (str, bytes)) or not isinstance(devices, Sequence):
        raise TypeError(format_error("devices", _ALLOWED, devices))
    if not devices:
        raise ValueError(format_error("devices", _ALLOWED, devices))
    for i, d in enumerate(devices):
        if not isinstance(d, str):
            raise TypeError(format_error(f"devices[{i}]", "a str, 'cpu' or 'cuda:N'", d))
        if not _DEVICE.match(d):
            raise ValueError(format_error(f"devices[{i}]", "'cpu' or 'cuda:N' with N an int >= 0", d))
    return [d for _ in range(tpd) for d in devices]


def visible_devices(device: str) -> str:
    """The ``CUDA_VISIBLE_DEVICES`` value of a worker placed on ``device`` (valid name)."""
    return "" if device == "cpu" else device.split(":", 1)[1]


def local_device(device: str) -> str:
    """The name of ``device`` inside a worker whose ``CUDA_VISIBLE_DEVICES`` is set for it."""
    return "cpu" if device == "cpu" else "cuda:0"


def free_cuda_cache() -> None:
    """Release PyTorch's cached GPU memory, if this process imported torch and used CUDA.

    Never imports torch nor initializes CUDA: a process that did not use it pays nothing.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_initialized():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - a broken CUDA state must not fail the next trial
        pass


# What the allocators say when they run out: PyTorch's CUDA, MPS and CPU allocators, CuPy,
# and XLA (JAX) on any device.
_OOM_MESSAGES = ("out of memory", "can't allocate memory", "resource_exhausted", "resource exhausted")


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` says that an allocation failed for lack of memory.

    ``MemoryError`` (NumPy's ``_ArrayMemoryError`` too), any ``OutOfMemoryError``
    (``torch.cuda.OutOfMemoryError``, CuPy's), and a ``RuntimeError`` whose message says so
    (PyTorch's CPU and MPS allocators, XLA's ``RESOURCE_EXHAUSTED``). Imports nothing.

    Example:
        >>> is_out_of_memory(MemoryError()), is_out_of_memory(RuntimeError("CUDA out of memory."))
        (True, True)
        >>> is_out_of_memory(ValueError("out of memory"))
        False
    """
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    if not isinstance(error, RuntimeError):
        return False
    message = str(error).lower()
    return any(m in message for m in _OOM_MESSAGES)
