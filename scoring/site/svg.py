"""The site's charts, as small hand-written SVG: the browser draws the text (any script, crisp at
any size) and a file is a few kilobytes. Labels are organisation names, months and numbers, so
one file serves both languages.

    score_bars([(label, score, note)])        horizontal bars, best first
    rank_lines(months, {name: [rank|None]})   one line per name, rank 1 at the top
"""

from __future__ import annotations

from xml.sax.saxutils import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width, height, body, label) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">\n'
            f'<rect width="100%" height="100%" fill="#fff"/>\n{body}</svg>\n')


def score_bars(rows, label="scores", colour="#3b6ea5") -> str:
    """``rows``: (label, score, note) best first; the note (rank change) goes after the bar."""
    left, bar_area, row_h, top = 190, 430, 20, 8
    width, height = left + bar_area + 90, top * 2 + row_h * max(len(rows), 1)
    best = max((s for _, s, _ in rows if s is not None), default=0) or 1.0
    parts = []
    for i, (name, score, note) in enumerate(rows):
        y = top + i * row_h
        length = 0 if score is None else bar_area * score / best
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" {FONT}>'
                     f'{escape(name)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row_h - 6}" '
                     f'fill="{colour}"><title>{escape(name)}: {_fmt(score)}</title></rect>')
        parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 14}" {FONT} fill="#333">'
                     f'{_fmt(score)}{escape(" " + note if note else "")}</text>')
    return _svg(width, height, "\n".join(parts) + "\n", label)


def rank_lines(months, series, label="ranks") -> str:
    """``series``: {name: [rank or None per month]}; names are written at their last point."""
    worst = max((r for ranks in series.values() for r in ranks if r is not None), default=1)
    left, right, top, bottom = 44, 190, 16, 56
    step_x = 120 if len(months) > 1 else 0
    row_h = 18 if worst > 12 else 26
    width = left + step_x * (len(months) - 1) + right + 20
    height = top + bottom + row_h * max(worst - 1, 1)

    def x(i):
        return left + 20 + step_x * i

    def y(rank):
        return top + row_h * (rank - 1)

    parts = []
    for rank in range(1, worst + 1):  # a faint line per rank, labelled every few
        parts.append(f'<line x1="{left}" x2="{width - right + 10}" y1="{y(rank)}" '
                     f'y2="{y(rank)}" stroke="#eee"/>')
        if rank == 1 or rank % 5 == 0 or worst <= 12:
            parts.append(f'<text x="{left - 6}" y="{y(rank) + 4}" text-anchor="end" {FONT} '
                         f'fill="#666">{rank}</text>')
    for i, month in enumerate(months):
        parts.append(f'<text x="{x(i)}" y="{height - bottom + 28}" text-anchor="middle" '
                     f'{FONT} fill="#333">{escape(month)}</text>')
    ends = {}  # (x, y) of a last point -> names ending there (ties share one label)
    for n, (name, ranks) in enumerate(series.items()):
        colour, dash = PALETTE[n % len(PALETTE)], DASHES[n // len(PALETTE) % len(DASHES)]
        points = [(x(i), y(r), r, months[i]) for i, r in enumerate(ranks) if r is not None]
        if not points:
            continue
        path = " ".join(f"{px},{py}" for px, py, _, _ in points)
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dashing}/>')
        for px, py, r, month in points:
            parts.append(f'<circle cx="{px}" cy="{py}" r="3.5" fill="{colour}">'
                         f'<title>{escape(name)} {escape(month)}: {r}</title></circle>')
        ends.setdefault(points[-1][:2], []).append(name)
    for (px, py), names in ends.items():
        parts.append(f'<text x="{px + 8}" y="{py + 4}" {FONT}>{escape(", ".join(names))}'
                     f'</text>')
    return _svg(width, height, "\n".join(parts) + "\n", label)


def _fmt(score) -> str:
    return "" if score is None else f"{score:.3f}"
