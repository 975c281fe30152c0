"""Live view signalling at the edge: `live_offer` and `live_close` commands (common.contract.live)
handed over by `edge.commands.CommandHandler`, answered by the agent's live publisher.

Answering takes a moment (the peer connection gathers its candidates), so it runs on a small pool of
threads of its own: the channel's thread keeps reading, and the publisher's loop never waits on the
network to send a reply. The reply (an SDP answer, or a refusal with its reason) goes up the channel
when it is open, else by `POST /api/v1/device/replies`.

An offer for a camera this agent does not have is left to the hall's other agents (commands go to
every agent of the hall): it is not answered here. Everything else gets a reply, "live off" included,
so central never waits out its timeout for a refusal the agent could give.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from common.contract import LiveCloseCommand, LiveOfferCommand, LiveRefusal, LiveReply

if TYPE_CHECKING:
    from edge.live.publisher import LivePublisher

logger = logging.getLogger(__name__)

WORKERS = 2  # offers answered at once; more wait their turn (each answer is short)

# Sends a reply to command `id` up to central; False when it could not be sent.
SendReply = Callable[[int, dict[str, Any]], bool]


class LiveCommands:
    def __init__(
        self, publisher: LivePublisher | None, *, cameras: Collection[str], reply: SendReply
    ) -> None:
        self.publisher = publisher
        self.cameras = frozenset(cameras)  # this agent's cameras, whether live is on or not
        self._reply = reply
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="live-signal")
        self.answered = 0  # replies sent (tests and logs read it)

    def __call__(self, command: LiveOfferCommand | LiveCloseCommand) -> bool:
        """Take the command over; False when it is not this agent's to do."""
        if isinstance(command, LiveCloseCommand):
            return self.publisher is not None and self._submit(self._close, command.viewer)
        if command.camera not in self.cameras:
            logger.info("live offer %d: camera %s is not this agent's", command.id, command.camera)
            return False
        return self._submit(self._offer, command)

    def stop(self) -> None:
        """Answer what was taken over already, then stop (the publisher stops after this)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, work: Callable[[Any], None], argument: Any) -> bool:
        try:
            self._pool.submit(work, argument)
        except RuntimeError:  # stopping: the channel may still hand a command over meanwhile
            logger.info("live view is stopping: a command was not taken over")
            return False
        return True

    def _offer(self, command: LiveOfferCommand) -> None:
        try:
            reply = self._answer(command)
        except Exception as exc:  # a failure here must still reach central, not leave it waiting
            logger.exception("live offer %d failed", command.id)
            reply = refusal(command.viewer, LiveRefusal.FAILED, str(exc))
        if self._reply(command.id, reply.model_dump(mode="json", exclude_none=True)):
            self.answered += 1
        else:
            logger.warning("live offer %d: the reply could not be sent to central", command.id)

    def _answer(self, command: LiveOfferCommand) -> LiveReply:
        if self.publisher is None:
            return refusal(command.viewer, LiveRefusal.LIVE_OFF, "live view is off on this agent")
        # Imported here: an agent without live view never loads aiortc.
        from aiortc import RTCIceServer

        from edge.live.publisher import LiveError

        publisher = self.publisher
        try:
            if not publisher.online(command.camera):
                return refusal(command.viewer, LiveRefusal.CAMERA_OFFLINE, "no fresh frames from the camera")
            answer = publisher.answer(
                command.sdp,
                camera=command.camera,
                profile=command.profile,
                viewer=command.viewer,
                ice_servers=[
                    RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
                    for s in command.ice_servers
                ],
            )
        except LiveError as exc:
            return refusal(command.viewer, exc.reason, str(exc))
        logger.info("live offer %d: viewer %s of %s answered", command.id, answer.viewer, command.camera)
        return LiveReply(viewer=answer.viewer, sdp=answer.sdp)

    def _close(self, viewer: str) -> None:
        assert self.publisher is not None
        try:
            closed = self.publisher.close(viewer)
        except Exception:
            logger.exception("live viewer %s: closing failed", viewer)
            return
        logger.info("live viewer %s: %s", viewer, "closed by central" if closed else "was not watching here")


def refusal(viewer: str, reason: LiveRefusal, detail: str) -> LiveReply:
    return LiveReply(viewer=viewer, refused=reason, detail=detail[:300])
