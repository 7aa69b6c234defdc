"""Accessibility checks run inside the browser, shared by the browser tests.

- ``run_axe(page)``: axe-core (installed from the npm registry into
  ``node_modules/`` by ``make install``) on the page, WCAG 2.0/2.1 A and AA
  rules plus axe's best practices; returns the violations.
- ``horizontal_overflow(page)``: how many pixels the page scrolls sideways
  (WCAG 1.4.10 Reflow: 0 at 320 CSS pixels).
- ``focus_ring_contrast(page)``: the contrast of the focused element's
  indicator against the background around it (WCAG 1.4.11, 2.4.7: ≥ 3:1).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require_axe() -> Path:
    """The path of axe.min.js, or skip with how to install it."""
    if not AXE.exists():
        how = (
            "`make install` (den kører `npm ci`)"
            if shutil.which("npm")
            else "Node.js and npm (`apt-get install -y npm`), then `make install`"
        )
        pytest.skip(
            f"axe-core mangler ({AXE.relative_to(ROOT)}): tilgængelighedstestene "
            f"springes over. Installér det med {how}."
        )
    return AXE


def settle(page) -> None:
    """Wait two animation frames: resize events and ResizeObserver callbacks
    queued by a viewport change have run by then."""
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame("
        "() => requestAnimationFrame(done)))"
    )


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page as it is now, once the page has
    answered its last resize (the scroll frames make themselves focusable in
    their resize handlers, which run at the next frame, as a person would
    meet them)."""
    settle(page)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(require_axe()))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "), summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)


def horizontal_overflow(page) -> int:
    """Pixels the page scrolls sideways (0 when it reflows)."""
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth"
        " - document.scrollingElement.clientWidth"
    )


def widest_elements(page, limit: int = 5) -> list[str]:
    """The elements that stick out past the right edge, for the report."""
    return page.evaluate(
        """(limit) => {
            const width = document.documentElement.clientWidth;
            const out = [];
            for (const el of document.querySelectorAll("body *")) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && r.width > 0) {
                    let inFrame = false;
                    for (let p = el.parentElement; p; p = p.parentElement) {
                        const s = getComputedStyle(p);
                        if (s.overflowX === "auto" || s.overflowX === "scroll"
                            || s.overflowX === "hidden") { inFrame = true; break; }
                    }
                    if (inFrame) continue;
                    const id = el.id ? "#" + el.id : "";
                    const cls = el.className && typeof el.className === "string"
                        ? "." + el.className.trim().split(/\\s+/).join(".") : "";
                    const tag = el.tagName.toLowerCase();
                    out.push(`${tag}${id}${cls} right=${Math.round(r.right)}`);
                    if (out.length >= limit) break;
                }
            }
            return out;
        }""",
        limit,
    )


# Computed in the browser: an element's focus indicator colours (outline,
# and box-shadow rings at least 2px wide) against the first opaque background
# behind the element, by WCAG's relative luminance and contrast ratio.
RING_JS = """
const parseColour = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
};
const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92
                                       : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
};
const ringOf = (el) => {
    let background = null;
    for (let p = el.parentElement; p; p = p.parentElement) {
        const c = parseColour(getComputedStyle(p).backgroundColor);
        if (c && c.a > 0.5) { background = c; break; }
    }
    background = background || {r: 255, g: 255, b: 255, a: 1};
    const style = getComputedStyle(el);
    const rings = [];
    const width = parseFloat(style.outlineWidth) || 0;
    if (style.outlineStyle !== "none" && width >= 2) {
        const c = parseColour(style.outlineColor);
        if (c && c.a > 0.5) rings.push(c);
    }
    const shadow = style.boxShadow || "none";
    if (shadow !== "none") {
        for (const part of shadow.split(/,(?![^(]*\\))/)) {
            const colour = part.match(/rgba?\\([^)]+\\)/);
            const lengths = part.replace(/rgba?\\([^)]+\\)/, "").trim()
                .split(/\\s+/).filter(s => s.endsWith("px")).map(parseFloat);
            const spread = lengths.length >= 4 ? lengths[3] : 0;
            if (colour && spread >= 2 && !part.includes("inset")) {
                const c = parseColour(colour[0]);
                if (c && c.a > 0.5) rings.push(c);
            }
        }
    }
    const ratios = rings.map(c => contrast(c, background));
    const best = ratios.length ? Math.max(...ratios) : 0;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "")
        + " " + (el.textContent || el.value || "").trim().slice(0, 30);
    return {element: name, ratio: Math.round(best * 100) / 100};
};
"""

FOCUS_RING_JS = "() => {" + RING_JS + """
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    return ringOf(el);
}"""

ALL_RINGS_JS = "() => {" + RING_JS + """
    const selector = "a[href], button, input:not([type=hidden]), select, textarea,"
        + " summary, [tabindex]:not([tabindex='-1'])";
    const out = [];
    for (const el of document.querySelectorAll(selector)) {
        if (el.disabled || !el.getClientRects().length) continue;
        if (getComputedStyle(el).visibility === "hidden") continue;
        el.focus({focusVisible: true, preventScroll: true});
        if (document.activeElement !== el) continue;
        out.push(ringOf(el));
    }
    if (document.activeElement) document.activeElement.blur();
    return out;
}"""


def focus_ring_contrast(page) -> dict | None:
    """``{"element": ..., "ratio": ...}`` for the focused element (None if
    nothing has focus)."""
    return page.evaluate(FOCUS_RING_JS)


def faint_focus_rings(page, minimum: float = 3.0) -> list[dict]:
    """Every focusable element on the page whose focus indicator (shown as
    for keyboard focus) has less than ``minimum`` contrast with what is
    around it."""
    return [r for r in page.evaluate(ALL_RINGS_JS) if r["ratio"] < minimum]
