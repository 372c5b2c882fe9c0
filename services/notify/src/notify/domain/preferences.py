"""What a recipient's preferences mean for one message: which channel, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from notify.domain.model import Channel, Contact, QuietHours


@dataclass(frozen=True)
class ChannelChoice:
    channel: Channel | None
    """The channel to use; None when there is none."""
    reason: str = ""
    """Why there is none: every allowed channel opted out, or no address for any."""

    @property
    def opted_out(self) -> bool:
        return self.channel is None and self.reason.startswith("opted out")


def choose_channel(contact: Contact, allowed: tuple[Channel, ...]) -> ChannelChoice:
    """The recipient's preferred channel when the rule allows it, else the rule's
    order; skipping channels they opted out of or have no address for."""
    order = list(allowed)
    if contact.preferred_channel in order:
        order.remove(contact.preferred_channel)
        order.insert(0, contact.preferred_channel)
    wanted = [c for c in order if c not in contact.opted_out]
    if not wanted:
        return ChannelChoice(None, "opted out of " + ", ".join(c.value for c in allowed))
    for channel in wanted:
        if contact.address(channel):
            return ChannelChoice(channel)
    return ChannelChoice(None, "no address for " + ", ".join(c.value for c in wanted))


def quiet_until(now: datetime, hours: QuietHours, zone: str) -> datetime | None:
    """When the quiet hours around `now` end (UTC-aware), or None when `now` is not quiet.

    Deferring to this moment, rather than dropping, is what quiet hours mean here.
    """
    local = now.astimezone(ZoneInfo(zone))
    t = local.time().replace(tzinfo=None)
    if hours.start < hours.end:
        quiet = hours.start <= t < hours.end
        end_day = local.date()
    else:  # wraps past midnight, e.g. 21:00-08:00
        quiet = t >= hours.start or t < hours.end
        end_day = local.date() + timedelta(days=1) if t >= hours.start else local.date()
    if not quiet:
        return None
    end = datetime.combine(end_day, hours.end, tzinfo=ZoneInfo(zone))
    return end.astimezone(now.tzinfo)
