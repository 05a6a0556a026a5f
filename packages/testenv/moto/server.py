"""moto's server as the tests and the bench run it: moto itself, changed for speed only.

Usage: python server.py <run dir> <moto server arguments...>
(the run directory is only there so the harness can tell this process is its own).

moto's SQS works out, for every message in a queue, whether it is visible, reading the
clock through datetime arithmetic, and it recounts the queue's approximate message
numbers several times for every message sent. A queue of thousands therefore took
minutes to fill: 1,000 events through the consumer took 91 s, 5,000 could not be sent
in 10 minutes. No change alters what moto answers:

1. The clock, milliseconds since the epoch, is read with time.time(): the same value,
   some twenty times cheaper.
2. The three ApproximateNumberOf* counts are made in one pass and reused until a
   message is sent, received, deleted or has its visibility changed, for at most 100 ms
   (so a message whose visibility timeout runs out shows up within 100 ms). Real SQS
   documents these counts as approximate, lagging by up to a minute.
3. The list of moto's service modules and each response class's method names are
   worked out once, not for every request, and werkzeug's line per request is not
   logged (see below).

And one fix, for correctness: deleting a message rebuilds the queue's message list
without the lock that a concurrent send appends under, so a message sent while another
was being deleted could vanish. The bench saw it as 2 to 7 of 5,000 burst events that
never became Jobs, with the queue empty. The rebuild now holds that lock.
"""

import sys
import time

import moto.sqs.models as sqs_models

_datetime_millis = sqs_models.unix_time_millis


def _unix_time_millis(dt=None):
    return time.time() * 1000.0 if dt is None else _datetime_millis(dt)


sqs_models.unix_time_millis = _unix_time_millis

_COUNTS_FOR_SECONDS = 0.1


# Bumped by every call that changes messages; counts made before it are not reused.
_changes = 0


def _counts(queue):
    now = time.time()
    cached = getattr(queue, "_ondemand_eks_counts", None)
    if cached is not None and cached[4] == _changes and now - cached[0] < _COUNTS_FOR_SECONDS:
        return cached
    millis = now * 1000.0
    visible = delayed = not_visible = 0
    for message in queue._messages:
        is_delayed = millis < message.delayed_until
        is_visible = millis > message.visible_at
        delayed += is_delayed
        not_visible += not is_visible
        visible += is_visible and not is_delayed
    cached = (now, visible, delayed, not_visible, _changes)
    queue._ondemand_eks_counts = cached
    return cached


sqs_models.Queue.approximate_number_of_messages = property(lambda q: _counts(q)[1])
sqs_models.Queue.approximate_number_of_messages_delayed = property(lambda q: _counts(q)[2])
sqs_models.Queue.approximate_number_of_messages_not_visible = property(lambda q: _counts(q)[3])


def _counting_changes(method):
    def changed(*args, **kwargs):
        global _changes
        _changes += 1
        try:
            return method(*args, **kwargs)
        finally:
            _changes += 1

    return changed


for _name in (
    "send_message",
    "send_message_batch",
    "receive_message",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
):
    setattr(sqs_models.SQSBackend, _name, _counting_changes(getattr(sqs_models.SQSBackend, _name)))

_delete_message = sqs_models.Queue.delete_message


def _delete_message_locked(self, receipt_handle):
    with self._messages_lock:
        return _delete_message(self, receipt_handle)


sqs_models.Queue.delete_message = _delete_message_locked

# Two lookups moto repeats for every request, whose answers cannot change while it runs:
# the list of its service modules (a directory listing and a stat of each of about 150
# entries, to route a request by host name: a sixth of moto's CPU time in a profile of
# the SQS bench path), and the method names of a response class (inspect.getmembers).
import moto.backends as _backends  # noqa: E402
import moto.core.responses as _responses  # noqa: E402

_modules = tuple(_backends.list_of_moto_modules())
_backends.list_of_moto_modules = lambda: _modules

_method_names = {}
_uncached_method_names = _responses.method_names_from_class


def _cached_method_names(clazz):
    names = _method_names.get(clazz)
    if names is None:
        names = _method_names[clazz] = _uncached_method_names(clazz)
    return list(names)


_responses.method_names_from_class = _cached_method_names

# werkzeug logs a line for every request it answers: 7% of moto's CPU time in the same
# profile. Its warnings and errors (a request that failed) are still logged.
import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)

from moto.server import main  # noqa: E402

main(sys.argv[2:])
