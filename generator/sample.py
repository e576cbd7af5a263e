"""Dance to songs from the command line: motion files and a video for every song.

    python -m generator.sample SONG_OR_DIR... [--out DIR] [--checkpoint STEM] [--seed N]
        [--steps N] [--guidance W] [--start S] [--duration S] [--device cpu|cuda]
        [--no-video] [--body mannequin|smpl|skeleton] [--size 512]
        [--inbetween-from MOTION [--keyframe-every S]]
        [--keep-joints GROUP --from MOTION]

For every song it writes ``DIR/<song stem>.npz`` (the project's motion file, naming the song and
the excerpt's offset in it), ``.pkl`` (AIST++ style, 60 fps), ``.bvh`` (Blender, metres, y up) and
``.mp4`` (the dance with the song; skipped with ``--no-video``), and prints where each went.
Songs given as a folder (its audio files, not recursing) are sampled together with the files
given directly, in one batched sampling run (:meth:`DanceGenerator.generate_many`).

Editing (EDGE-style inpainting, :mod:`generator.sampling.editing`), with a motion file (.npz or AIST++
.pkl) whose frame 0 lines up with the start of the excerpt:

* ``--inbetween-from MOTION``: keep MOTION's poses every ``--keyframe-every`` seconds (default
  2 s) and its last frame; the model dances in between.
* ``--keep-joints GROUP --from MOTION``: keep GROUP (``lower_body``, ``upper_body``,
  ``left_arm``, ...) of MOTION for its whole length and dance the rest to the music.

A thin command over :mod:`generator.sampling.pipeline`. Bad input (a missing or silent song, a bad
option, a missing checkpoint) ends with one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.sampling.checkpoint import DEFAULT_CHECKPOINT, GeneratorCheckpointError
from generator.sampling.constraints import KEYFRAME_EVERY_S, keep_joints_constraint, keyframe_constraint
from generator.sampling.editing import JOINT_GROUPS
from generator.sampling.pipeline import DanceGenerator
from motionbeat import audio as au
from motionbeat.core.motion import Motion, MotionFileError, load_motion

AUDIO_SUFFIXES: frozenset[str] = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"} | au.FFMPEG_SUFFIXES
)
"""Files a folder argument contributes: what ``motionbeat.audio.load_audio`` decodes."""
MOTION_SUFFIXES: tuple[str, ...] = (".npz", ".pkl", ".bvh")
"""Motion files written for every song (besides the video)."""
DEFAULT_OUT: str = "outputs"
DEFAULT_BODY: str = "mannequin"
DEFAULT_VIDEO_SIZE: int = 512


class SampleError(ValueError):
    """Bad command-line input (no songs, a folder without audio, conflicting options)."""


def collect_songs(inputs: list[Path]) -> list[Path]:
    """Song files in order: files as given, folders expanded to their audio files (sorted)."""
    songs: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.is_file()
                           and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise SampleError(f"{item}: no audio files in this folder "
                                  f"({', '.join(sorted(AUDIO_SUFFIXES))})")
            songs.extend(found)
        elif item.is_file():
            songs.append(item)
        else:
            raise SampleError(f"{item}: no such song file or folder")
    return songs


def output_stems(songs: list[Path], out: Path) -> list[Path]:
    """``out/<song stem>`` per song; repeated stems get ``-2``, ``-3``... in order."""
    seen: dict[str, int] = {}
    stems = []
    for song in songs:
        count = seen.get(song.stem, 0) + 1
        seen[song.stem] = count
        stems.append(out / (song.stem if count == 1 else f"{song.stem}-{count}"))
    return stems


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m generator.sample",
        description="Generate dances for songs: .npz, AIST++ .pkl, .bvh and an .mp4 per song.",
    )
    p.add_argument("songs", nargs="+", type=Path, metavar="SONG_OR_DIR",
                   help="audio files (wav, flac, ogg, mp3, m4a...) or folders of them")
    p.add_argument("--out", type=Path, default=Path(DEFAULT_OUT),
                   help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT,
                   help=f"generator checkpoint stem (default {DEFAULT_CHECKPOINT})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: config)")
    p.add_argument("--guidance", type=float, default=None,
                   help="classifier-free guidance weight (default: config)")
    p.add_argument("--start", type=float, default=0.0, help="excerpt start, seconds")
    p.add_argument("--duration", type=float, default=None,
                   help="excerpt length, seconds (default: to the end of the song)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--no-video", action="store_true", help="write the motion files only")
    p.add_argument("--no-foot-lock", action="store_true",
                   help="keep the model's raw root path and legs (default: planted feet held still)")
    p.add_argument("--body", default=DEFAULT_BODY, choices=("mannequin", "smpl", "skeleton"),
                   help=f"video body (default {DEFAULT_BODY})")
    p.add_argument("--size", type=int, default=DEFAULT_VIDEO_SIZE,
                   help=f"video width and height in pixels (default {DEFAULT_VIDEO_SIZE})")
    edit = p.add_argument_group("editing")
    edit.add_argument("--inbetween-from", type=Path, metavar="MOTION",
                      help="keep this motion's poses every --keyframe-every seconds")
    edit.add_argument("--keyframe-every", type=float, default=KEYFRAME_EVERY_S, metavar="S",
                      help=f"seconds between kept poses (default {KEYFRAME_EVERY_S:g})")
    edit.add_argument("--keep-joints", choices=sorted(JOINT_GROUPS), metavar="GROUP",
                      help=f"keep these joints of --from MOTION: {', '.join(sorted(JOINT_GROUPS))}")
    edit.add_argument("--from", dest="source", type=Path, metavar="MOTION",
                      help="the motion --keep-joints keeps joints of")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _constraint(args):
    constraint = None
    if args.inbetween_from is not None:
        constraint = keyframe_constraint(load_motion(args.inbetween_from), args.keyframe_every)
    if args.keep_joints is not None:
        kept = keep_joints_constraint(load_motion(args.source), args.keep_joints)
        constraint = kept if constraint is None else constraint | kept
    return constraint


class _Progress:
    """``progress(stage, fraction)`` as one tqdm bar per stage on stderr."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar, self.stage = enabled, None, None

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=100, desc=stage, unit="%", file=sys.stderr, leave=False)
        self.bar.update(round(100 * fraction) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def write_outputs(motion: Motion, song: Path, stem: Path, args) -> list[Path]:
    """The motion files (and video) of one song; returns the paths written."""
    from render.export import export_motion

    written = [export_motion(motion, stem.with_suffix(suffix)) for suffix in MOTION_SUFFIXES]
    if not args.no_video:
        from render.video import render_video

        written.append(render_video(
            motion, song, stem.with_suffix(".mp4"), body=args.body, size=args.size,
            progress=not args.quiet, beats=motion.meta.get("beat_times") or None,
        ))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.keep_joints is not None and args.source is None:
        parser.error("--keep-joints needs --from MOTION")
    if args.source is not None and args.keep_joints is None:
        parser.error("--from is the motion of --keep-joints; give --keep-joints GROUP too")
    from render.bodies import BodyError
    from render.export import ExportError
    from render.scene import RenderError

    progress = _Progress(not args.quiet)
    try:
        songs = collect_songs(args.songs)
        constraint = _constraint(args)
        generator = DanceGenerator.load(args.checkpoint, device=args.device)
        if generator.untrained:
            print(f"warning: {generator.checkpoint} is an untrained checkpoint (random weights)",
                  file=sys.stderr)
        motions = generator.generate_many(
            songs, seed=args.seed, steps=args.steps, guidance=args.guidance, start=args.start,
            duration=args.duration, constraint=constraint, progress=progress,
            foot_lock=not args.no_foot_lock,
        )
        progress.close()
        for song, motion, stem in zip(songs, motions, output_stems(songs, args.out), strict=True):
            written = write_outputs(motion, song, stem, args)
            print(f"{song} ({motion.duration:.1f} s from {motion.start_offset:.2f} s) -> "
                  + ", ".join(str(p) for p in written))
    except (au.AudioError, FileNotFoundError, GeneratorCheckpointError, MotionFileError,
            RenderError, BodyError, ExportError, ValueError) as err:
        progress.close()
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.close()
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
