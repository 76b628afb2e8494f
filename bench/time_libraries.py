"""Time-phrase libraries on the same corpora as bench/timephrases.py: right / refused / wrong per
language, each library imported only if installed (a scratch venv, never the project's lock).

Raw adapters (the library's first answer, read as a wall time in the case's zone); no layer
of our rules on top. Run from a venv holding the libraries, with this checkout on the path:

    python3 -m venv /tmp/libs && /tmp/libs/bin/pip install dateparser ctparse timefhuman \\
        parsedatetime 'emoji<2' recognizers-text-suite jionlp httpx
    PYTHONPATH=. /tmp/libs/bin/python -m bench.time_libraries
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench.timephrases import OWN, SHARED, Case, own_cases, shared_cases, verdict

Read = Callable[[Case], datetime | None]


def _base(case: Case) -> datetime:
    return case.now.astimezone(case.tz).replace(tzinfo=None)


def _aware(case: Case, found: Any) -> datetime | None:
    return found.replace(tzinfo=case.tz) if isinstance(found, datetime) else None


def _dateparser_parse(module: Any) -> Read:
    settings = {"PREFER_DATES_FROM": "future"}
    return lambda c: _aware(
        c, module.parse(c.text, settings={**settings, "RELATIVE_BASE": _base(c)})
    )


def _dateparser_search(module: Any) -> Read:
    importlib.import_module("dateparser.search")
    search = module.search.search_dates

    def read(case: Case) -> datetime | None:
        found = search(
            case.text, settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": _base(case)}
        )
        return _aware(case, found[0][1]) if found else None

    return read


def _ctparse(module: Any) -> Read:
    def read(case: Case) -> datetime | None:
        found = module.ctparse(case.text, ts=_base(case), timeout=1)
        start = getattr(getattr(found, "resolution", None), "start", found and found.resolution)
        if start is None or not hasattr(start, "hour") or start.hour is None:
            return None
        return datetime(
            start.year, start.month, start.day, start.hour, start.minute or 0, tzinfo=case.tz
        )

    return read


def _timefhuman(module: Any) -> Read:
    config = module.tfhConfig

    def read(case: Case) -> datetime | None:
        found = module.timefhuman(case.text, config=config(now=_base(case)))
        first = found[0] if found else None
        first = first[0] if isinstance(first, tuple) else first
        return _aware(case, first)

    return read


def _parsedatetime(module: Any) -> Read:
    calendar = module.Calendar()

    def read(case: Case) -> datetime | None:
        found, status = calendar.parseDT(case.text, sourceTime=_base(case))
        return _aware(case, found) if status else None

    return read


def _recognizers(module: Any) -> Read:
    culture = {"en": "en-us", "zh": "zh-cn"}

    def read(case: Case) -> datetime | None:
        results = module.recognize_datetime(case.text, culture[case.lang], reference=_base(case))
        for result in results:
            for value in (result.resolution or {}).get("values", []):
                text = value.get("value") or value.get("start")
                if text and len(text) >= 16 and value.get("type") in ("datetime", "datetimerange"):
                    return datetime.fromisoformat(text).replace(tzinfo=case.tz)
        return None

    return read


def _jionlp(module: Any) -> Read:
    def read(case: Case) -> datetime | None:
        found = module.parse_time(case.text, time_base=_base(case).timestamp())
        start = (found or {}).get("time", [None])[0]
        return datetime.fromisoformat(start).replace(tzinfo=case.tz) if start else None

    return read


LIBRARIES: dict[str, tuple[str, Callable[[Any], Read]]] = {
    "dateparser.parse": ("dateparser", _dateparser_parse),
    "dateparser.search_dates": ("dateparser", _dateparser_search),
    "ctparse": ("ctparse", _ctparse),
    "timefhuman": ("timefhuman", _timefhuman),
    "parsedatetime": ("parsedatetime", _parsedatetime),
    "recognizers-text": ("recognizers_date_time", _recognizers),
    "jionlp (Chinese)": ("jionlp", _jionlp),
}


def main() -> None:
    corpora = {"shared": shared_cases(SHARED), "own": own_cases(OWN)}
    print(
        f"{'library':<26} {'corpus':<7} {'en right/refused/wrong':>24} {'zh right/refused/wrong':>24}"
    )
    for name, (module_name, adapter) in LIBRARIES.items():
        try:
            read = adapter(importlib.import_module(module_name))
        except Exception as error:
            print(f"{name:<26} not available ({type(error).__name__}: {error})")
            continue
        for corpus, cases in corpora.items():
            counts: dict[str, Counter[str]] = {"en": Counter(), "zh": Counter()}
            for case in cases:
                try:
                    start = read(case)
                except Exception:
                    start = None
                counts[case.lang][verdict(case, start, None)] += 1
            cells = [
                f"{c['right']}/{c['refused']}/{c['wrong']} of {sum(c.values())}"
                for c in (counts["en"], counts["zh"])
            ]
            print(f"{name:<26} {corpus:<7} {cells[0]:>24} {cells[1]:>24}")


if __name__ == "__main__":
    main()
