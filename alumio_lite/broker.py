"""The embedded broker: kombu's filesystem transport, made safe against crashes and bad files.

kombu's own filesystem transport creates a message file and only then writes into it, and a
reader takes any `*.msg` it lists: a reader can get an empty or half-written file, and the
JSON error that follows kills the worker. It also forgets a message the moment a worker takes
it, so a worker killed mid-task loses the messages it held. This transport changes three things:

- **Atomic writes.** A message is written to a hidden temporary file and renamed into the
  queue folder, so a reader only ever sees complete messages.
- **Claims that survive a crash.** A reader renames the message into `claimed/` under its own
  process id (the rename is atomic, so exactly one reader wins) and deletes it when the message
  is acknowledged. A file in `claimed/` whose process is gone goes back to the queue when a
  process next opens the broker: a killed worker's messages are delivered again.
- **Bad messages are set aside.** A file that is not a readable kombu message (empty, cut
  short, not JSON) is moved to `rejected/` and logged as an error; the worker carries on.

Registered for `filesystem://` by `register()` (called with the Celery app), so the default
CELERY_BROKER_URL uses it in every process: web, workers and beat.
"""
from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps, loads

from .processes import is_running

log = logging.getLogger("alumio_lite.broker")


def register() -> None:
    TRANSPORT_ALIASES["filesystem"] = "alumio_lite.broker:Transport"


RECOVER_EVERY = 30.0  # seconds between looks for orphaned claims while a queue is idle


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._claims: dict[str, Path] = {}  # delivery tag -> our file in claimed/
        self._noack_queues: set[str] = set()
        for folder in (self.claimed_folder, self.rejected_folder):
            folder.mkdir(parents=True, exist_ok=True)
        self.recover_orphans()

    # -- folders

    @property
    def _base(self) -> Path:
        return Path(self.data_folder_in).parent

    @property
    def claimed_folder(self) -> Path:
        return Path(self.transport_options.get("claimed_folder") or self._base / "claimed")

    @property
    def rejected_folder(self) -> Path:
        return Path(self.transport_options.get("rejected_folder") or self._base / "rejected")

    # -- writing

    def _put(self, queue, payload, **kwargs):
        """Write the message beside the queue under a hidden name, then rename it into place."""
        # Zero-padded, so names sort by time even when the clock gains a digit.
        name = f"{round(monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        temporary = os.path.join(folder, f".{uuid.uuid4().hex}.tmp")  # never matches "*.<queue>.msg"
        try:
            with open(temporary, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(temporary, os.path.join(folder, name))
        except OSError as exc:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise filesystem.ChannelError(f"Cannot add a message to {folder!r}: {exc}") from exc

    # -- reading

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            claimed = self.claimed_folder / f"{os.getpid()}-{filename}"
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue  # another reader took it first
            raw = b""
            try:
                raw = claimed.read_bytes()
                payload = loads(raw.decode())
                self._check(payload)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is set aside, never fatal
                self._set_aside(claimed, filename, exc, raw)
                continue
            tag = payload["properties"]["delivery_tag"]
            if queue in self._noack_queues:
                claimed.unlink(missing_ok=True)  # nobody will acknowledge it (remote control, events)
            else:
                self._claims[tag] = claimed
            return payload
        if monotonic() - self._recovered_at > RECOVER_EVERY:
            self.recover_orphans()  # a sibling worker that died held messages: deliver them here
        raise filesystem.Empty()

    def _check(self, payload) -> None:
        """What kombu's Message needs, checked here so a bad file cannot fail later in the worker."""
        if not isinstance(payload, dict) or not isinstance(payload.get("properties"), dict):
            raise ValueError("not a kombu message (no properties)")
        properties = payload["properties"]
        if "delivery_tag" not in properties or not isinstance(properties.get("delivery_info", {}), dict):
            raise ValueError("not a kombu message (no delivery tag)")
        if payload.get("body"):
            self.decode_body(payload["body"], properties.get("body_encoding"))

    def _set_aside(self, claimed: Path, filename: str, exc: Exception, raw: bytes) -> None:
        target = self.rejected_folder / filename
        try:
            os.rename(claimed, target)
        except OSError:
            target = claimed
        reason = "an empty file" if not raw else f"{type(exc).__name__}: {exc}"[:200]
        log.error("Broker: set aside an unreadable message (%s) as %s; the worker carries on. "
                  "Delete the file, or move it back into %s if it is a real message.",
                  reason, target, self.data_folder_in)

    # -- acknowledging

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._noack_queues.add(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._release(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)  # with requeue, _restore puts a copy back first
        self._release(delivery_tag)

    def _restore(self, message):
        super()._restore(message)
        self._release(message.delivery_tag)

    def _release(self, delivery_tag) -> None:
        claimed = self._claims.pop(delivery_tag, None)
        if claimed is None:
            return
        if self.store_processed:
            os.replace(claimed, Path(self.processed_folder) / claimed.name.partition("-")[2])
        else:
            claimed.unlink(missing_ok=True)

    # -- recovery

    def recover_orphans(self) -> int:
        """Put back into the queue the messages claimed by processes that no longer exist."""
        self._recovered_at = monotonic()
        restored = 0
        for path in self.claimed_folder.iterdir():
            pid, dash, original = path.name.partition("-")
            if not dash or not pid.isdigit() or is_running(int(pid)):
                continue
            try:
                os.rename(path, os.path.join(self.data_folder_in, original))
            except OSError:
                continue  # another process restored it
            restored += 1
        if restored:
            log.warning("Broker: %s message(s) taken by a process that stopped were put back in the queue.",
                        restored)
        return restored


class Transport(filesystem.Transport):
    Channel = Channel
