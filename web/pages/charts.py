"""Geometry for the server-rendered SVG charts (the templates draw them).

Each chart has a table beside it with the same figures: the SVG is for the
eye, the table for screen readers and for copying.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 80, 16, 16, 40


def _nice_ceiling(value: Decimal) -> Decimal:
    """A round axis maximum at or above value (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exponent = len(str(int(value))) - 1
    base = Decimal(10) ** exponent
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= base * step:
            return base * step
    return base * 10


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    width: float
    accepted_y: float
    accepted_h: float
    pending_y: float
    pending_h: float
    accepted: Decimal
    pending: Decimal


def quarter_chart(quarters: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars per quarter: accepted at the bottom, pending on top."""
    values = [(q["quarter"], Decimal(q["accepted_eur"]), Decimal(q["pending_eur"])) for q in quarters]
    top = _nice_ceiling(max((a + p for _, a, p in values), default=Decimal(0)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    bars = []
    for i, (label, accepted, pending) in enumerate(values):
        ah = float(accepted / top) * plot_h
        ph = float(pending / top) * plot_h
        x = LEFT + i * slot + slot * 0.15
        base = TOP + plot_h
        bars.append(Bar(label=label, x=round(x, 1), width=round(slot * 0.7, 1),
                        accepted_y=round(base - ah, 1), accepted_h=round(ah, 1),
                        pending_y=round(base - ah - ph, 1), pending_h=round(ph, 1),
                        accepted=accepted, pending=pending))
    ticks = [{"value": top * k / 4, "y": round(TOP + plot_h - plot_h * k / 4, 1)} for k in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": TOP + plot_h, "bars": bars, "ticks": ticks}


def retention_curve(points: list[dict[str, Any]]) -> dict[str, Any]:
    """A step line of the share still working N months after the start."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    months = max((p["month"] for p in points), default=12) or 12
    coords = []
    for p in points:
        if p["percent"] is None:
            continue
        x = LEFT + plot_w * p["month"] / months
        y = TOP + plot_h * (1 - float(p["percent"]) / 100)
        coords.append({"x": round(x, 1), "y": round(y, 1), **p})
    path = ""
    for i, c in enumerate(coords):
        if i == 0:
            path = f"M{c['x']},{c['y']}"
        else:
            path += f" H{c['x']} V{c['y']}"
    ticks_y = [{"value": v, "y": round(TOP + plot_h * (1 - v / 100), 1)} for v in (0, 25, 50, 75, 100)]
    ticks_x = [{"value": m, "x": round(LEFT + plot_w * m / months, 1)} for m in range(0, months + 1, 3)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": TOP + plot_h, "path": path, "points": coords, "ticks_y": ticks_y, "ticks_x": ticks_x}


def progress(percent: Any) -> float:
    """Width (0-100) of a progress bar for a percentage (over 100 shows full)."""
    try:
        value = float(percent)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, min(100.0, value))


def target_line(points: list[dict[str, Any]], target: Any, top: Any = None) -> dict[str, Any]:
    """A line of a target's figure at each quarter's end, with the target as a
    dashed line; a withheld point (fewer than 5 people) leaves a gap. `top`:
    the axis maximum (100 for a percentage, 5 for a score; else rounded up
    from the figures and the target)."""
    values = [Decimal(str(p["value"])) if p.get("value") is not None else None for p in points]
    target_value = Decimal(str(target)) if target is not None else None
    if top is None:
        top = _nice_ceiling(max([v for v in values if v is not None] + ([target_value] if target_value else []),
                                default=Decimal(0)))
    top = Decimal(str(top)) or Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)

    def y(v: Decimal) -> float:
        return round(TOP + plot_h * (1 - float(min(v, top) / top)), 1)

    coords, path, pen_down = [], "", False
    for i, (p, v) in enumerate(zip(points, values)):
        x = round(LEFT + slot * (i + 0.5), 1)
        coords.append({"x": x, "y": y(v) if v is not None else None, "label": p["quarter"]})
        if v is None:
            pen_down = False
            continue
        path += f"{' L' if pen_down else ' M'}{x},{y(v)}"
        pen_down = True
    ticks = [{"value": top * k / 4, "y": round(TOP + plot_h - plot_h * k / 4, 1)} for k in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": TOP + plot_h, "path": path.strip(), "points": coords, "ticks": ticks,
            "target_y": y(target_value) if target_value is not None else None}
