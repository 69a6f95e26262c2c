"""How fast is the builtin return label? Run: .venv/bin/python bench/label_render.py [N]

Renders, interleaved after a warm-up (each round starting with the next case), N times
each:

- the builtin label: the whole `BuiltinLabelService().issue()` (template, barcode, QR
  code and PDF) for a typical RMA;
- a minimal one-line WeasyPrint document, `HTML(string="<p>Hello, world.</p>").write_pdf()`,
  rendered the ordinary way (WeasyPrint's defaults, nothing cached by the caller);
- the same one-line document with the label's cached font configuration, which
  isolates what the label's own content costs.

and prints the median times and the ratios. Target: the label within 1.3x of the
minimal document. Interleaving keeps a busy machine from favouring either side.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_portal.settings.test")

import django

django.setup()

from weasyprint import HTML  # noqa: E402

from labels.adapters.builtin import BuiltinLabelService, _renderer  # noqa: E402
from tests.labels.samples import label_request  # noqa: E402

TARGET_RATIO = 1.3
WARM_UP = 20
MINIMAL_HTML = "<p>Hello, world.</p>"

REQUEST = label_request()


def main(runs: int) -> int:
    service = BuiltinLabelService()
    font_config = _renderer().font_config
    cases = {
        "label": lambda: service.issue(REQUEST),
        "minimal": lambda: HTML(string=MINIMAL_HTML).write_pdf(),
        "minimal, cached fonts": lambda: HTML(string=MINIMAL_HTML).write_pdf(
            font_config=font_config
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(WARM_UP):
        for render in cases.values():
            render()
    names = list(cases)
    for run in range(runs):
        # Each round starts with the next case: a render runs faster or slower depending
        # on which one ran before it (caches), so no case always follows the same one.
        shift = run % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            cases[name]()
            timings[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(times) * 1000 for name, times in timings.items()}
    for name, median in medians.items():
        print(f"{name:24s} median {median:7.2f} ms over {runs} runs")
    ratio = medians["label"] / medians["minimal"]
    strict = medians["label"] / medians["minimal, cached fonts"]
    print(f"label / minimal:               {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"label / minimal, cached fonts: {strict:.2f}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
