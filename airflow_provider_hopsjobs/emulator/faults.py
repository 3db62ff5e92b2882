"""Faults on purpose, and a record of what the server received.

Rules (set with ``--fault`` flags or ``PUT /_emulator/faults``) are JSON objects::

    {"path": "/executions$", "method": "POST", "rate": 0.3, "fault": ["503", "drop"]}
    {"path": "/jobs/", "sequence": ["503", "429:2", "ok", "drop@after"], "repeat": false}

* ``path``: regular expression searched in the request path (default: every API path);
  ``method``: one method or a list (default: all).
* ``fault`` (one action or a list to draw from) fires with probability ``rate``
  (default 1.0), at most ``times`` times if given.
* ``sequence``: one action per matching request, in order (``ok`` lets a request through);
  when exhausted the rule stops firing, unless ``repeat`` is true.

Actions: ``500``/``502``/``503``/``504`` (500 with Hopsworks' JSON error body, the others
with the HTML page a proxy would send), ``429`` or ``429:<seconds>`` (``Retry-After``,
default 1), ``drop`` (the connection is closed with no response, which a client sees as a
connection error), ``stall:<seconds>`` (the request waits, then proceeds). Suffix
``@after`` to let the request do its work first and only then fail, stall or drop its
response: the ambiguous failure a client must not blindly repeat.

Randomness comes from one ``random.Random`` per rule seeded from ``(seed, rule index)``,
so a given seed and request sequence always produce the same faults. The first rule that
fires wins. Admin routes (``/_emulator/...``) are never faulted nor counted.
``fault_middleware`` applies the rules to the requests.

Every API request is counted under its route template, e.g.
``"POST /hopsworks-api/api/project/{id}/jobs/{name}/executions"`` (unknown routes under
their raw path), before any fault is applied.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

#: The keys a fault rule may have, in the order the error message lists them.
RULE_KEYS = ("path", "method", "fault", "sequence", "rate", "times", "repeat")
_ACTION = re.compile(r"^(?P<kind>ok|drop|stall|429|5\d\d)(?::(?P<arg>[0-9.]+))?(?P<after>@after)?$")


class FaultRuleError(ValueError):
    """A fault rule that cannot be understood."""


@dataclass(frozen=True)
class Action:
    kind: str  # "ok", "drop", "stall", "429", "500"...
    arg: float | None = None
    after: bool = False

    @classmethod
    def parse(cls, text: str) -> Action:
        match = _ACTION.match(str(text).strip().lower())
        if match is None:
            raise FaultRuleError(f"unknown fault action {text!r}")
        arg = match.group("arg")
        kind = match.group("kind")
        if kind == "stall" and arg is None:
            raise FaultRuleError("stall needs a length: stall:<seconds>")
        return cls(kind, float(arg) if arg is not None else None, bool(match.group("after")))


@dataclass
class Rule:
    path: re.Pattern[str]
    methods: frozenset[str] | None
    actions: list[Action]
    rate: float = 1.0
    times: int | None = None
    sequence: bool = False
    repeat: bool = False
    rng: random.Random = field(default_factory=random.Random)
    fired: int = 0
    position: int = 0
    source: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: dict[str, Any], seed: int | None, index: int) -> Rule:
        if not isinstance(spec, dict):
            raise FaultRuleError("a fault rule is a JSON object")
        unknown = set(spec) - set(RULE_KEYS)
        if unknown:
            raise FaultRuleError(
                f"unknown fault rule keys: {', '.join(sorted(unknown))}; a rule takes {', '.join(RULE_KEYS)}"
                ' (e.g. {"path": "/executions$", "method": "POST", "fault": "503", "times": 1})'
            )
        try:
            path = re.compile(str(spec.get("path", ".*")))
        except re.error as exc:
            raise FaultRuleError(f"bad path pattern: {exc}") from None
        method = spec.get("method")
        methods = None
        if method is not None:
            methods = frozenset(m.upper() for m in ([method] if isinstance(method, str) else method))
        if ("sequence" in spec) == ("fault" in spec):
            raise FaultRuleError("a fault rule needs exactly one of 'fault' or 'sequence'")
        raw = spec.get("sequence", spec.get("fault"))
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise FaultRuleError("a fault rule needs at least one action")
        rate = float(spec.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise FaultRuleError("rate must be between 0 and 1")
        times = spec.get("times")
        return cls(
            path=path,
            methods=methods,
            actions=[Action.parse(str(a)) for a in items],
            rate=rate,
            times=int(times) if times is not None else None,
            sequence="sequence" in spec,
            repeat=bool(spec.get("repeat", False)),
            rng=random.Random(f"{seed}:{index}"),  # noqa: S311 (reproducible faults, not secrets)
            source=dict(spec),
        )

    def pick(self, method: str, path: str) -> Action | None:  # noqa: PLR0911
        if self.methods is not None and method not in self.methods:
            return None
        if not self.path.search(path):
            return None
        if self.sequence:
            if self.position >= len(self.actions):
                if not self.repeat:
                    return None
                self.position = 0
            action = self.actions[self.position]
            self.position += 1
            return None if action.kind == "ok" else action
        if self.times is not None and self.fired >= self.times:
            return None
        if self.rate < 1.0 and self.rng.random() >= self.rate:
            return None
        self.fired += 1
        action = self.actions[0] if len(self.actions) == 1 else self.rng.choice(self.actions)
        return None if action.kind == "ok" else action


class FaultInjector:
    """Holds the active rules; thread-unsafe by design (used on the event loop only)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.seed: int | None = None
        self.injected = 0

    def configure(self, specs: list[dict[str, Any]], seed: int | None = None) -> None:
        rules = [Rule.parse(spec, seed, i) for i, spec in enumerate(specs)]
        self.rules, self.seed, self.injected = rules, seed, 0

    def clear(self) -> None:
        self.rules, self.injected = [], 0

    def pick(self, method: str, path: str) -> Action | None:
        for rule in self.rules:
            action = rule.pick(method, path)
            if action is not None:
                self.injected += 1
                return action
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "injected": self.injected,
            "rules": [dict(r.source, fired=r.fired, position=r.position) for r in self.rules],
        }


def parse_rule_text(text: str) -> dict[str, Any]:
    """A ``--fault`` flag: a JSON object, or the shorthand ``ACTION[,ACTION...][@RATE][~PATH]``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultRuleError(f"bad fault JSON: {exc}") from None
        if not isinstance(spec, dict):
            raise FaultRuleError("a fault rule is a JSON object")
        return spec
    path = ".*"
    if "~" in text:
        text, path = text.split("~", 1)
    rate = 1.0
    match = re.match(r"^(.*?)(?:%(?P<rate>[0-9.]+))?$", text)
    if match and match.group("rate"):
        text, rate = match.group(1), float(match.group("rate"))
    actions = [a for a in text.split(",") if a]
    for action in actions:
        Action.parse(action)
    return {"path": path, "fault": actions, "rate": rate}
