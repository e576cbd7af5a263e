"""The evaluation report as a markdown table (setup, table, protocol, AIST++ context) and as JSON."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from motionbeat.core.fileio import atomic_path
from motionbeat.metrics import BOOTSTRAP_RESAMPLES

NA: str = "–"
LARGE: float = 1e6
"""Values at least this large are printed in scientific notation (an exploded FID / Div)."""


def _fmt(x, digits: int) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return NA
    if abs(x) >= LARGE:
        return f"{x:.2e}"
    return f"{round(x, digits) + 0.0:.{digits}f}"  # + 0.0 turns -0.0 into 0.0


GAP_MEASURES: tuple[tuple[str, str], ...] = (
    ("bas", "BAS"), ("bas_motion", "BAS_motion"), ("bec", "BEC"), ("bec_lag", "BEC_lag"),
    ("bec_any", "BEC_any"), ("phase_r", "R"),
)
"""Measures of the own/other table (``motionbeat.metrics.MEASURES``) and their column names."""
TABLE_GAPS: tuple[str, ...] = ("bas", "bec", "bec_any", "phase_r")
"""Measures whose own - other gap is a column of the main table."""


def _gap(r: dict, measure: str, digits: int = 3) -> str:
    """'gap [lo, hi]' of a row's own/other comparison for one measure."""
    gap = r.get(f"{measure}_gap")
    if gap is None or (isinstance(gap, float) and not math.isfinite(gap)):
        return NA
    lo, hi = r.get(f"{measure}_gap_lo"), r.get(f"{measure}_gap_hi")
    return f"{_fmt(gap, digits)} [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"


def own_other_markdown(report: dict) -> list[str]:
    """The own-song vs other-songs table: for each row and measure, own / other / gap [95 % CI]."""
    names = " | ".join(f"{name} own / other / gap [95 % CI]" for _, name in GAP_MEASURES)
    lines = [
        "## Own song vs other songs",
        "",
        f"| method | dances | {names} |",
        "|---|---|" + "---|" * len(GAP_MEASURES),
    ]
    for r in report["rows"]:
        cells = " | ".join(
            f"{_fmt(r.get(f'{m}_own'), 3)} / {_fmt(r.get(f'{m}_other'), 3)} / {_gap(r, m)}"
            for m, _ in GAP_MEASURES
        )
        lines.append(f"| {r['label']} | {r['n_dances']} | {cells} |")
    lines += [
        "",
        "Each dance scored with its own song (own) and with every other held-out song of the run "
        "(other: the mean over them, same span and beats analysis); gap = own - other, mean over "
        f"dances, with a 95 % percentile bootstrap interval over songs ({BOOTSTRAP_RESAMPLES} "
        "resamples, `motionbeat.metrics.own_other`). A measure sees "
        "the song only where the gap is clearly above 0; BAS alone does not show alignment. "
        "BEC: correlation of the motion pulse with cos(2 pi beat phase) at lag 0 (BEC_lag: best "
        "lag within 0.1 s; BEC_any: best constant phase offset); R: resultant length of the beat "
        "phase at the motion beats (`motionbeat.metrics.alignment`).",
        "",
    ]
    return lines


def sampling_lines(report: dict) -> list[str]:
    """One line per generator checkpoint: its sampler, steps, guidance and beat guidance (its raw
    row shares them)."""
    lines, seen = [], set()
    for r in report["rows"]:
        s = r.get("sampling")
        if not s or r["checkpoint"] in seen:
            continue
        seen.add(r["checkpoint"])
        lines.append(f"- {r['label']}: `{r['checkpoint']}`, {s['sampler']} sampler, {s['steps']} "
                     f"steps, guidance {s['guidance']:g}"
                     + (f", beat guidance {s['beat_guidance']:g}" if s.get("beat_guidance") else "")
                     + (f", half time above {s['halftime_above_bpm']:g} BPM"
                        if s.get("halftime_above_bpm") else "")
                     + (f", beat warp {s['beat_warp']:g} beats" if s.get("beat_warp") else "")
                     + (f", style drawn {s['style_scale']:g}x its spread"
                        + (" given the song's music" if s.get("style_prior") == "music" else "")
                        if "style_scale" in s else ""))
    return lines


def format_markdown(report: dict, command: str = "") -> str:
    """The report as markdown: setup, the table, protocol, AIST++ context."""
    songs = report["songs"]
    sources = {}
    for s in songs:
        sources[s["source"] or "?"] = sources.get(s["source"] or "?", 0) + 1
    spans = [s["span_s"] for s in songs]
    ref = report["reference"]
    lines = ["# Generator evaluation", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- corpus `{report['corpus']}`, split `{report['split']}`: {len(songs)} songs "
        f"({', '.join(f'{n} {k}' for k, n in sorted(sources.items()))}), each scored on its first "
        f"{report['seconds']:g} s (whole song if shorter; spans {min(spans):.1f}-{max(spans):.1f} s)",
        f"- dances per song in every row: {report['samples_per_song']}; seeds "
        f"{', '.join(map(str, report['seeds']))} (the k-th dance of a song uses seed + k)",
        f"- FID / Div reference pool: {ref['description']} ({ref['dances']} dances; its own "
        f"Div_k {_fmt(ref['div_k'], 2)}, Div_g {_fmt(ref['div_g'], 2)})",
        *(
            f"- the reference pool never varies on {kind} feature(s) {', '.join(map(str, idx))}: "
            f"a dance that differs there gets z-scores near 1e10 (Bailando's std + 1e-10, kept), "
            f"so FID / Div on the {kind} features can be astronomically large"
            for kind, idx in ref.get("constant_features", {}).items() if idx
        ),
        *([f"- fastest turn in the reference pool's whole dances: {_fmt(ref['max_turn'], 1)} degrees "
           "in one 1/30 s frame (`motionbeat.metrics.turns`; the turn column is each row's fastest)"]
          if ref.get("max_turn") is not None else []),
        *sampling_lines(report),
        f"- music beats for BAS: {report['protocol']['music_beats']}",
        f"- wall time {report['wall_s']:.0f} s, torch {report['threads']} thread(s), {report['device']}",
        "",
        "| method | dances | PFC ↓ | max turn °/frame | BAS ↑ | BAS_motion ↑ | BEC ↑ | R ↑ "
        "| BAS gap ↑ | BEC gap ↑ | BEC_any gap ↑ | R gap ↑ | FID_k ↓ | FID_g ↓ | Div_k | Div_g "
        "| FID_k* ↓ | FID_g* ↓ | Div_k* | Div_g* | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['label']} | {r['n_dances']} | {_fmt(r['pfc'], 4)} | {_fmt(r.get('max_turn'), 1)} "
            f"| {_fmt(r['bas'], 4)} "
            f"| {_fmt(r['bas_motion'], 4)} | {_fmt(r.get('bec'), 3)} | {_fmt(r.get('phase_r'), 3)} "
            f"| {' | '.join(_gap(r, m) for m in TABLE_GAPS)} "
            f"| {_fmt(r['fid_k'], 2)} | {_fmt(r['fid_g'], 2)} "
            f"| {_fmt(r['div_k'], 2)} | {_fmt(r['div_g'], 2)} "
            f"| {_fmt(r.get('fid_k_varying'), 2)} | {_fmt(r.get('fid_g_varying'), 2)} "
            f"| {_fmt(r.get('div_k_varying'), 2)} | {_fmt(r.get('div_g_varying'), 2)} "
            f"| {_fmt(r['wall_s'], 1)} |"
        )
    p = report["protocol"]
    aist = report["aistpp_reference"]
    lines += [
        "",
        f"{NA}: undefined (FID and Div need at least 2 dances). Wall s: time to make the row's dances "
        "(a raw row and its generator's row share one sampling run and its time). "
        "Starred columns: the same on only the feature channels the reference pool varies on "
        "(a documented deviation, `generator.evaluate.varying_features`; the unstarred columns "
        "follow the field's protocol). Gap columns: own song - other songs [95 % bootstrap interval "
        "over songs], the table below.",
        "",
        *own_other_markdown(report),
        "Rows: ground truth = the corpus dances of these songs; generators = `generate_many` on the "
        "song audio; rule-based choreographer = `motionbeat.choreography.choreographer.choreograph` with the "
        "scoring beats (it also made the corpus' dances, from the exact beats); random clips = dances "
        "of other train-split songs cut at a random frame, laid on each song (never a dance of the "
        "same song).",
        "",
        "Protocol (`motionbeat.metrics.scoring`):",
        "",
        f"- PFC: {p['pfc']}",
        f"- BAS: {p['bas']}; BAS_motion: {p['bas_motion']}",
        *([f"- BEC: {p['bec']}; R: {p['phase_r']}", f"- own / other: {p['own_other']}"]
          if "bec" in p else []),
        f"- FID / Div: {p['fid']}",
        "",
        "AIST++ numbers for context only (`shared/reference/metrics.md`; other dances, other music): "
        "PFC " + ", ".join(f"{k} {v:g}" for k, v in aist["pfc"].items()) + " (EDGE protocol); BAS "
        + ", ".join(f"{k} {v:g}" for k, v in aist["bas"].items()) + " (Bailando protocol). "
        "Compare only inside one table, ground truth included.",
        "",
    ]
    return "\n".join(lines)


def _clean(x):
    """NaN / inf -> None (JSON null), recursively; numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_report(report: dict, out: str | os.PathLike, command: str = "") -> tuple[Path, Path]:
    """Write ``out`` (markdown) and ``out`` with ``.json`` (the report, NaN as null), atomically."""
    out = Path(out)
    json_path = out.with_suffix(".json")
    with atomic_path(out) as tmp:
        tmp.write_text(format_markdown(report, command))
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(_clean(dict(report, command=command)), indent=1) + "\n")
    return out, json_path
