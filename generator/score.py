"""Score dance files against their songs.

``python -m generator.score MOTION... [--audio SONG...] [--reference DIR] [--json OUT]``

A thin command over :mod:`motionbeat.metrics.scoring`. Each motion is scored against its song (given in
the same order with ``--audio``, or named in the motion file), aligned by the motion's start
offset in the song. The music's beats are ``analyse_rhythm``'s, with the tempo hint a dance was
made with (``generator.sample --bpm``, ``bpm_hint`` in its metadata), so it is scored on the beats
it danced to. Prints a table; ``--json`` writes per-file and mean values.

When the dances come with two or more different songs, every dance is also scored against
every OTHER song given (:func:`motionbeat.metrics.scoring.own_other_scores`), and each measure's
own - other gap is printed with a bootstrap 95 % interval over songs (``own_other`` in the
JSON): BAS, BAS_motion, BEC, BEC_lag and the beat-phase locking R. A measure shows that the
dances follow their songs only where that gap is clearly above 0. ``--no-own-other`` skips it.

    python -m generator.score a.npz b.npz c.npz --audio a.wav b.wav c.wav
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from motionbeat.audio import AudioError, analyse_rhythm, load_audio
from motionbeat.core import contract
from motionbeat.core.fileio import atomic_path
from motionbeat.core.motion import Motion, MotionFileError, load_motion
from motionbeat.metrics.scoring import (
    PROTOCOL,
    ScoringError,
    distribution_scores,
    mean_scores,
    own_other_scores,
    score_dance,
)

MOTION_SUFFIXES = (".npz", ".pkl")


def resolve_songs(motion_paths: list[Path], motions: list[Motion], audio: list[Path] | None) -> list[Path]:
    """The song of each motion: ``--audio`` in order, else the song the motion file names.

    A relative song path in a motion file is tried as given and then beside the motion file.
    """
    if audio:
        if len(audio) != len(motion_paths):
            raise ScoringError(
                f"{len(motion_paths)} motion file(s) but {len(audio)} song(s): give one --audio per motion, "
                "in the same order"
            )
        return audio
    songs = []
    for path, motion in zip(motion_paths, motions, strict=True):
        if not motion.source_song:
            raise ScoringError(f"{path.name}: the file names no song; pass it with --audio")
        song = Path(motion.source_song)
        candidates = [song] if song.is_absolute() else [song, path.parent / song, path.parent / song.name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ScoringError(
                f"{path.name}: its song {motion.source_song} was not found; pass it with --audio"
            )
        songs.append(found)
    return songs


def load_reference(directory: Path) -> list[Motion]:
    """Every .npz / .pkl motion under ``directory`` (AIST++ ``motions/`` works as it is)."""
    if not directory.is_dir():
        raise ScoringError(f"--reference {directory}: not a directory")
    paths = sorted(p for p in directory.rglob("*") if p.suffix in MOTION_SUFFIXES)
    if not paths:
        raise ScoringError(f"--reference {directory}: no .npz or .pkl motion files in it")
    return [load_motion(p) for p in paths]


def tempo_hint_of(motion: Motion) -> float | None:
    """The tempo hint (BPM) a generated dance was made with (``--bpm``; its metadata), or None."""
    hint = (motion.meta.get("generator") or {}).get("bpm_hint")
    return float(hint) if isinstance(hint, int | float) and not isinstance(hint, bool) else None


def score_files(
    motion_paths: list[Path], audio: list[Path] | None = None, reference: Path | None = None,
    pkl_fps: float = contract.AISTPP_FPS, own_other: bool = True, seed: int = 0,
) -> dict:
    """Score motion files; returns ``{"files": [...], "mean": {...}, "protocol": {...}}``, and
    ``"own_other"`` (per measure: own, other, gap, gap_lo, gap_hi, ...) when ``own_other`` and
    the dances have at least two different songs."""
    if not motion_paths:
        raise ScoringError("no motion files given")
    motions = [load_motion(p, fps=pkl_fps) for p in motion_paths]
    songs = resolve_songs(motion_paths, motions, audio)
    rhythms = {}  # by (song, tempo hint): a dance made with a hint is scored on its beats
    scores, keys_of = [], []
    for path, motion, song in zip(motion_paths, motions, songs, strict=True):
        key = (song, tempo_hint_of(motion))
        if key not in rhythms:
            rhythms[key] = analyse_rhythm(load_audio(song), tempo_hint=key[1])
        keys_of.append(key)
        scores.append(score_dance(motion, rhythms[key], name=path.name))
    mean = mean_scores(scores)
    mean["max_turn"] = max((sc.max_turn for sc in scores), default=math.nan)  # fastest of any file
    if reference is not None:
        mean.update(distribution_scores(motions, load_reference(reference)))
    files = [
        dict(s.as_dict(), file=str(p), song=str(song))
        for s, p, song in zip(scores, motion_paths, songs, strict=True)
    ]
    report = {"files": files, "mean": mean, "protocol": PROTOCOL}
    if own_other and len(rhythms) >= 2:
        keys = list(rhythms)  # songs in first-seen order
        found = own_other_scores(motions, [rhythms[k] for k in keys], [keys.index(k) for k in keys_of],
                                 seed=seed)
        report["own_other"] = found["measures"]
        for i, f in enumerate(files):
            f.update({f"{k}_other": v["other"][i] for k, v in found["per_dance"].items()})
    return report


def format_table(report: dict) -> str:
    """A plain-text table of the per-file and mean scores."""
    def fmt(x) -> str:
        return "   n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:6.4f}"

    width = max([len("mean")] + [len(Path(f["file"]).name) for f in report["files"]])
    keys = ("pfc", "bas", "bas_motion", "bec", "phase_r")

    def turn(x) -> str:
        return "   n/a" if x is None or not math.isfinite(x) else f"{x:6.1f}"

    lines = [f"{'file':<{width}}  {'sec':>6}  {'PFC':>6}  {'BAS':>6}  {'BAS_m':>6}  {'BEC':>6}  {'R':>6}"
             f"  {'turn°':>6}"]
    for f in report["files"]:
        lines.append(f"{Path(f['file']).name:<{width}}  {f['duration_s']:6.1f}  "
                     + "  ".join(fmt(f.get(k)) for k in keys) + f"  {turn(f.get('max_turn'))}")
    m = report["mean"]
    lines.append(f"{'mean':<{width}}  {'':>6}  " + "  ".join(fmt(m.get(k)) for k in keys)
                 + f"  {turn(m.get('max_turn'))}")
    lines.append("turn°: fastest root turn between two frames, degrees per 1/30 s (mean row: the "
                 "fastest of all)")
    if "fid_k" in m:
        lines.append(
            f"FID_k {m['fid_k']:.3f}  FID_g {m['fid_g']:.3f}  Div_k {m['div_k']:.3f}  Div_g {m['div_g']:.3f}"
            f"  ({m['n_gen']} dances against {m['n_ref']} reference motions)"
        )
    if "own_other" in report:
        oo = report["own_other"]
        first = next(iter(oo.values()))
        lines += [
            "",
            f"own song vs other songs ({first['n_dances']} dances, {first['n_songs']} songs; "
            f"gap = own - other, 95 % bootstrap interval over songs, {first['resamples']} resamples)",
            f"{'measure':<10}  {'own':>7}  {'other':>7}  {'gap':>7}  95 % interval",
        ]
        for k, v in oo.items():
            lines.append(f"{k:<10}  {fmt(v['own']):>7}  {fmt(v['other']):>7}  {fmt(v['gap']):>7}  "
                         f"[{fmt(v['gap_lo']).strip()}, {fmt(v['gap_hi']).strip()}]")
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> None:
    """Write the report atomically; NaN becomes null so any JSON reader accepts it."""
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(clean(report), indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.score", description="Score dance files against their songs."
    )
    parser.add_argument("motions", nargs="+", type=Path, help="motion files (.npz, or AIST++ .pkl)")
    parser.add_argument("--audio", nargs="+", type=Path, help="the songs, one per motion, in the same order")
    parser.add_argument("--reference", type=Path, help="folder of reference motions for FID and Div")
    parser.add_argument("--json", type=Path, help="write per-file and mean scores to this JSON file")
    parser.add_argument("--pkl-fps", type=float, default=contract.AISTPP_FPS,
                        help="frame rate of .pkl motions (AIST++: %(default)s)")
    parser.add_argument("--no-own-other", action="store_true",
                        help="do not score each dance against the other songs given")
    parser.add_argument("--seed", type=int, default=0, help="seed of the own/other bootstrap")
    args = parser.parse_args(argv)
    try:
        report = score_files(args.motions, args.audio, args.reference, args.pkl_fps,
                             own_other=not args.no_own_other, seed=args.seed)
    except (ScoringError, MotionFileError, AudioError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.json:
        write_json(report, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
