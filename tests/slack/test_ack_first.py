"""Acknowledge first, through the real Bolt app: a request's lazy work starts only once no
request is waiting for its ack (AckGate + AckFirstLazyRunner installed by build_app)."""

from __future__ import annotations

from bot.slack.priority import AckGate
from tests.slack.conftest import Bolt, settle


async def test_lazy_work_waits_until_pending_acks_are_sent(bolt: Bolt) -> None:
    gate = AckGate()
    app = bolt.app(gate)
    log = bolt.service.log
    gate.enter()  # request A has arrived (the server counts it before reading its body)

    acked = await bolt.deliver(app, gate, bolt.command("help", trigger_id="B"))
    log.append("B acked")
    await settle()

    assert acked.status == 200
    assert log == ["B acked"], "B's lazy work started while A was still waiting for its ack"

    a_acked = await app.async_dispatch(bolt.request(bolt.command("help", trigger_id="A")))
    gate.leave()
    log.append("A acked")
    await bolt.answered("response_url", 2)

    assert a_acked.status == 200
    assert log[:2] == ["B acked", "A acked"]
    assert sorted(log[2:]) == ["lazy work of A", "lazy work of B"]


async def test_without_the_gate_lazy_work_starts_at_once(bolt: Bolt) -> None:
    """The control: what the test above would see were the gate bypassed."""
    app = bolt.app(gate=None)
    pending = AckGate()
    pending.enter()  # a request waiting for its ack, which nothing now heeds

    await bolt.deliver(app, pending, bolt.command("help", trigger_id="B"))
    await settle()

    assert "lazy work of B" in bolt.service.log
    await bolt.answered("response_url", 1)
