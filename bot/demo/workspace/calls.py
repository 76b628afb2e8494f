"""Slack's `calls.*` methods for the fake: call objects a bot adds, updates and ends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.demo.workspace.model import APP_ID, ApiError
from bot.demo.workspace.state import Workspace

__all__ = ["CallsApi"]


class CallsApi:
    """`calls.add`, `calls.info`, `calls.update`, `calls.end`, `calls.participants.*`."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def _call(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self.ws.calls.get(str(args.get("id", "")))
        if call is None:
            raise ApiError("invalid_call_id")
        return call

    @staticmethod
    def _call_users(args: Mapping[str, Any]) -> list[dict[str, Any]]:
        users = args.get("users") or []
        if not isinstance(users, list) or not all(
            isinstance(u, dict) and ("slack_id" in u or "external_id" in u) for u in users
        ):
            raise ApiError("invalid_users")
        return [dict(u) for u in users]

    def add(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if not args.get("external_unique_id") or not args.get("join_url"):
            raise ApiError("invalid_arguments")
        call_id = self.ws.next_id("R")
        call = {
            "id": call_id,
            "app_id": APP_ID,
            "date_start": int(args.get("date_start") or self.ws.clock()),
            "external_unique_id": str(args["external_unique_id"]),
            "external_display_id": str(args.get("external_display_id", "")),
            "join_url": str(args["join_url"]),
            "desktop_app_join_url": str(args.get("desktop_app_join_url", "")),
            "title": str(args.get("title", "")),
            "users": self._call_users(args),
        }
        self.ws.calls[call_id] = call
        self.ws.changed()
        return {"ok": True, "call": call}

    def info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "call": self._call(args)}

    def update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        for key in ("title", "join_url", "desktop_app_join_url"):
            if key in args:
                call[key] = str(args[key])
        self.ws.changed()
        return {"ok": True, "call": call}

    def end(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        if call.get("date_end"):
            raise ApiError("already_ended")
        call["date_end"] = int(self.ws.clock())
        call["duration"] = int(args.get("duration") or call["date_end"] - call["date_start"])
        self.ws.changed()
        return {"ok": True}

    @staticmethod
    def _same_person(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return any(k in a and a.get(k) == b.get(k) for k in ("slack_id", "external_id"))

    def participants_add(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        for user in self._call_users(args):
            if not any(self._same_person(user, u) for u in call["users"]):
                call["users"].append(user)
        self.ws.changed()
        return {"ok": True}

    def participants_remove(self, args: Mapping[str, Any]) -> dict[str, Any]:
        call = self._call(args)
        leaving = self._call_users(args)
        call["users"] = [
            u for u in call["users"] if not any(self._same_person(x, u) for x in leaving)
        ]
        self.ws.changed()
        return {"ok": True}
