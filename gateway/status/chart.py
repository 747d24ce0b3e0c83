"""Scans per minute over the shift as an inline SVG bar chart (no script, no external file)."""

from __future__ import annotations

from datetime import datetime
from html import escape

WIDTH, HEIGHT, AXIS = 480, 120, 16


def scans_per_minute_svg(per_minute: list[tuple[int, int]]) -> str:
    """One bar per minute, scaled to the busiest minute; hour marks along the bottom in the
    gateway's local time."""
    n = max(1, len(per_minute))
    peak = max((c for _, c in per_minute), default=0)
    total = sum(c for _, c in per_minute)
    step = WIDTH / n
    plot = HEIGHT - AXIS
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="scans per minute: {total} in all, at most {peak} a minute" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}" class="axis"/>',
    ]
    for i, (minute, count) in enumerate(per_minute):
        when = datetime.fromtimestamp(minute / 1000)
        if when.minute == 0:
            x = i * step
            parts.append(f'<line x1="{x:.1f}" y1="{plot}" x2="{x:.1f}" y2="{plot + 4}" '
                         'class="axis"/>')  # fmt: skip
            if when.hour % 2 == 0:
                parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 2}" class="tick">'
                             f'{when:%H:%M}</text>')  # fmt: skip
        if count and peak:
            h = max(1.0, count / peak * (plot - 4))
            parts.append(
                f'<rect x="{i * step:.2f}" y="{plot - h:.2f}" width="{max(step, 1):.2f}" '
                f'height="{h:.2f}" class="bar"><title>{escape(f"{when:%H:%M}")}: {count}'
                "</title></rect>"
            )
    parts.append(f'<text x="2" y="10" class="tick">peak {peak}/min · {total} scans</text>')
    parts.append("</svg>")
    return "".join(parts)
