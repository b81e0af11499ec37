"""Records shared by the worker, controller and admin API, defined once: the worker heartbeat, the
controller's loop state and the rule judging it. (The progress key is in :mod:`core.queues.keys`,
queue depth in :mod:`core.queues.depth`.)"""

from core.records.heartbeat import Heartbeat, WorkerStatus, decode_heartbeat, encode_heartbeat
from core.records.loop_state import STALL_INTERVALS, LoopState, is_stalled, loop_healthy

__all__ = [
    "STALL_INTERVALS",
    "Heartbeat",
    "LoopState",
    "WorkerStatus",
    "decode_heartbeat",
    "encode_heartbeat",
    "is_stalled",
    "loop_healthy",
]
