"""Who did something: every service takes an `Actor` and writes it into the event trail."""

from __future__ import annotations

from dataclasses import dataclass

from rma.models import ActorType


@dataclass(frozen=True)
class Actor:
    type: str
    user: object | None = None
    label: str = ""

    @classmethod
    def shopper(cls, email: str = "") -> Actor:
        return cls(ActorType.SHOPPER, label=email)

    @classmethod
    def agent(cls, user) -> Actor:
        return cls(ActorType.AGENT, user=user, label=user.get_username())

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, label=label)

    @classmethod
    def api(cls, api_key) -> Actor:
        return cls(ActorType.API, label=f"api key {api_key.name} ({api_key.prefix})")
