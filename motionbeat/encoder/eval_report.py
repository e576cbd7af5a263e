"""The report of a MotionBeat evaluation: its rows (:class:`EvalRow`) and the markdown table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from motionbeat.encoder.eval_probes import BEAT_TOLERANCE_S
from motionbeat.encoder.eval_retrieval import RECALL_KS
from motionbeat.metrics.retrieval import QB_NORM_BETA, QB_NORM_K

NA: str = "–"


@dataclass
class EvalRow:
    """One row of the table; metrics absent for a row are None."""

    name: str
    label: str
    retrieval: dict[str, dict[str, float]] | None = None
    beat_f1: float | None = None
    genre_accuracy: float | None = None
    details: dict = field(default_factory=dict)


def _pct(x: float | None) -> str:
    return NA if x is None else f"{100 * x:.1f}"


def _retrieval_cells(r: dict | None, key: str) -> list[str]:
    s = (r or {}).get(key)
    if not s:
        return [NA] * (len(RECALL_KS) + 1)
    return [_pct(s[f"R@{k}"]) for k in RECALL_KS] + [f"{s['medr']:g}"]


def format_report(meta: dict, rows: Sequence[EvalRow]) -> str:
    """The markdown report: what was measured, then the one table."""
    ks = "/".join(str(k) for k in RECALL_KS)
    heads = ["Model"]
    for direction in ("M→D", "M→D QB", "D→M", "D→M QB"):
        heads += [f"{direction} R@{k}" for k in RECALL_KS] + [f"{direction} MedR"]
    heads += ["M→D song@1", "D→M song@1", "Beat F1", "Genre acc"]
    lines = [
        "# MotionBeat evaluation",
        "",
        f"Made by: `{meta['command'] or 'motionbeat.encoder.evaluate.evaluate(...)'}`",
        "",
        f"* Corpus `{meta['corpus']}`: {meta['train_songs']} training songs, "
        f"{meta['held_out_songs']} held-out songs (split {', '.join(meta['held_out'])}).",
        f"* Retrieval: gallery of **{meta['gallery_size']}** held-out clips of "
        f"{meta['beats_per_clip']} beats (non-overlapping, one dance per clip window), the same "
        f"gallery in both directions. Recall@{ks} in %, MedR = median rank (1 is best, ties "
        "count against the query). M→D: music queries, dance gallery; D→M the reverse.",
        f"* QB: QB-Norm, dynamic inverted softmax (Bogolin et al., CVPR 2022; k = {QB_NORM_K}, "
        f"beta = {QB_NORM_BETA:g}), query bank = {meta['bank_size']} training clips.",
        f"* Beat F1 (%): per-frame logistic-regression probe on frozen features computed on the "
        f"beat tracker's grid, peak picking, mir_eval F-measure at "
        f"{1000 * BEAT_TOLERANCE_S:.0f} ms after trimming the first "
        f"{meta['options']['trim_seconds']:g} s; trained on {meta['probe_train_songs']} training "
        f"songs, mean over {meta['probe_test_songs']} held-out synthesized songs with exact "
        "beats.",
        "* song@1 (%): how often the top-ranked item comes from the query's song (any clip of "
        f"it); chance is {_pct(meta.get('song_chance'))} % (sum over songs of the squared share "
        "of gallery clips).",
        "* Genre acc (%): logistic regression on frozen clip embeddings -> groove family, "
        "trained on the query-bank clips, accuracy on the gallery clips.",
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|",
    ]
    for r in rows:
        cells = [r.label]
        for key in ("music_to_dance", "music_to_dance_qb", "dance_to_music", "dance_to_music_qb"):
            cells += _retrieval_cells(r.retrieval, key)
        for key in ("music_to_dance", "dance_to_music"):
            cells.append(_pct(((r.retrieval or {}).get(key) or {}).get("song@1")))
        cells += [_pct(r.beat_f1), _pct(r.genre_accuracy)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Checkpoints:", ""]
    for r in rows:
        d = r.details
        if "checkpoint" in d:
            steps = d.get("train_steps")
            lines.append(f"* {r.label}: `{d['checkpoint']}` (sha256 {d['model_hash']}, "
                         f"{d['parameters']:,} parameters, d_model {d['d_model']}, "
                         f"{d['n_layers']} layers" + (f", {steps} steps" if steps else "") + ")")
    lines += ["", f"Evaluation took {meta['seconds']:.0f} s. Numbers as JSON: "
              "the `.json` file beside this one.", ""]
    return "\n".join(lines)

