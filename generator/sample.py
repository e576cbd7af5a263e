"""Dance to songs from the command line: motion files and a video for every song.

    python -m generator.sample SONG_OR_DIR... [--out DIR] [--checkpoint STEM] [--seed N]
        [--steps N] [--guidance W] [--beat-guidance S] [--bpm B] [--halftime-above B]
        [--style-scale S] [--beat-warp S] [--sampler KIND] [--start S] [--duration S] [--device cpu|cuda]
        [--no-video] [--body mannequin|smpl|skeleton] [--size 512]
        [--formats npz,pkl,bvh,glb] [--rig smpl|mixamo]
        [--inbetween-from MOTION [--keyframe-every S]]
        [--keep-joints GROUP --from MOTION]

For every song it writes ``DIR/<song stem>.npz`` (the project's motion file, naming the song and
the excerpt's offset in it), ``.pkl`` (AIST++ style, 60 fps), ``.bvh`` (Blender, metres, y up) and
``.mp4`` (the dance with the song; skipped with ``--no-video``), and prints where each went.
``--formats`` picks the motion files (``glb``: the ``--body`` mesh skinned to the skeleton and
animated, for Blender and game engines); ``--rig mixamo`` names the BVH / GLB joints as Mixamo does.
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
import tempfile
import time
from pathlib import Path

from generator.model.config import SAMPLERS, STOCHASTIC_SAMPLERS
from generator.sampling.checkpoint import DEFAULT_CHECKPOINT, GeneratorCheckpointError
from generator.sampling.constraints import KEYFRAME_EVERY_S, keep_joints_constraint, keyframe_constraint
from generator.sampling.joint_groups import JOINT_GROUPS
from generator.sampling.pipeline import DanceGenerator
from motionbeat import audio as au
from motionbeat.core.motion import Motion, MotionFileError, load_motion
from render.rigs import DEFAULT_RIG, RIG_NAMES

AUDIO_SUFFIXES: frozenset[str] = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"} | au.FFMPEG_SUFFIXES
)
"""Files a folder argument contributes: what ``motionbeat.audio.load_audio`` decodes."""
MOTION_SUFFIXES: tuple[str, ...] = (".npz", ".pkl", ".bvh")
"""Motion files written for every song by default (``--formats npz,pkl,bvh``; ``glb`` on request)."""
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


def check_output_folder(out: Path) -> None:
    """Make ``out`` (and its parents) and create and delete a file in it, before any work is done,
    so a folder that cannot hold the dances is named at once instead of after the sampling.
    Raises :class:`SampleError` naming the folder and the reason (a path under a regular file,
    a read-only or virtual file system such as /proc, no permission, a full disk)."""
    if out.exists() and not out.is_dir():
        raise SampleError(f"{out}: is a file, not a folder; give --out a folder for the dances")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise SampleError(f"{out}: cannot write the dances to this folder "
                          f"({err.strerror or err})") from None


def output_stems(songs: list[Path], out: Path) -> list[Path]:
    """``out/<song stem>`` per song; repeated stems get ``-2``, ``-3``... in order."""
    seen: dict[str, int] = {}
    stems = []
    for song in songs:
        count = seen.get(song.stem, 0) + 1
        seen[song.stem] = count
        stems.append(out / (song.stem if count == 1 else f"{song.stem}-{count}"))
    return stems


def parse_formats(text: str) -> tuple[str, ...]:
    """``"npz,glb"`` -> ``(".npz", ".glb")``; an unknown or empty list is an argparse error."""
    from render.export import EXPORT_FORMATS

    names = [n.strip().lower().lstrip(".") for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(EXPORT_FORMATS))
    if unknown or not names:
        given = ", ".join(unknown) or "(none given)"
        raise argparse.ArgumentTypeError(f"unknown format(s) {given}; choose from {','.join(EXPORT_FORMATS)}")
    return tuple(dict.fromkeys(f".{n}" for n in names))


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
    p.add_argument("--beat-guidance", type=float, default=None,
                   help="beat guidance: nudge the upper body to settle on the beats "
                        "(default: config, 0 = off; 0.02 is measured in docs/generator.md)")
    p.add_argument("--bpm", type=float, default=None,
                   help="the song's tempo as you hear it, for a song whose beats come out at half "
                        "or double speed (default: found by the beat tracker)")
    p.add_argument("--halftime-above", type=float, default=None, metavar="BPM",
                   help="dance a song tracked faster than this at half time, on every other "
                        "beat (default: config; 0 = off)")
    p.add_argument("--style-scale", type=float, default=None, metavar="S",
                   help="for a generator with a style input: how far each dance's style (how "
                        "fast it moves) is drawn from the mean, in multiples of the training "
                        "dances' spread (default: config; 0 = the mean style)")
    p.add_argument("--beat-warp", type=float, default=None, metavar="S",
                   help="retime the finished dance so its accents fall on the "
                        "beats, each moved at most S beats (default: config; 0 = off, at most 0.5)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help=f"sampling scheduler (default: config); {' and '.join(STOCHASTIC_SAMPLERS)} "
                        "add fresh noise at each step")
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
    p.add_argument("--formats", type=parse_formats, default=MOTION_SUFFIXES, metavar="LIST",
                   help="motion files to write, comma separated from npz,pkl,bvh,glb (default "
                   "npz,pkl,bvh); glb is the --body mesh skinned and animated (Blender, game engines)")
    p.add_argument("--rig", choices=RIG_NAMES, default=DEFAULT_RIG,
                   help=f"joint names in .bvh and .glb: SMPL's or Mixamo's (default {DEFAULT_RIG})")
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
    """``progress(stage, fraction)`` as one tqdm bar per stage on stderr; also the wall-clock
    seconds of every stage (:meth:`lap` adds stages of the command's own), for the timing line."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar, self.stage = enabled, None, None
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Charge the seconds since the last stage change to ``stage``."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._clock
        self._clock = now

    def __call__(self, stage: str, fraction: float) -> None:
        if stage != self.stage:
            if self.stage is not None:
                self.lap(self.stage)
            self.close()
            self.stage = stage
            if self.enabled:
                from tqdm import tqdm

                self.bar = tqdm(total=100, desc=stage, unit="%", file=sys.stderr, leave=False)
        if self.bar is not None:
            self.bar.update(round(100 * fraction) - self.bar.n)

    def report(self) -> None:
        """One ``timings:`` line on stderr (unless --quiet): seconds per stage, in order."""
        if self.enabled and self.seconds:
            print("timings: " + ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items()),
                  file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def write_outputs(motion: Motion, song: Path, stem: Path, args, lap=None) -> list[Path]:
    """The motion files (and video) of one song; returns the paths written. ``lap(stage)``, if
    given, is called after the motion files ("export") and after the video ("video")."""
    from render.export import export_motion

    lap = lap or (lambda stage: None)
    written = [
        export_motion(motion, stem.with_suffix(suffix), rig=args.rig, body=args.body)
        for suffix in args.formats
    ]
    lap("export")
    if not args.no_video:
        from render.video import render_video

        written.append(render_video(
            motion, song, stem.with_suffix(".mp4"), body=args.body, size=args.size,
            progress=not args.quiet, beats=motion.meta.get("beat_times") or None,
        ))
        lap("video")
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
        check_output_folder(args.out)
        constraint = _constraint(args)
        generator = DanceGenerator.load(args.checkpoint, device=args.device)
        progress.lap("load model")
        if generator.untrained:
            print(f"warning: {generator.checkpoint} is an untrained checkpoint (random weights)",
                  file=sys.stderr)
        motions = generator.generate_many(
            songs, seed=args.seed, steps=args.steps, guidance=args.guidance, sampler=args.sampler,
            start=args.start, duration=args.duration, constraint=constraint, progress=progress,
            foot_lock=not args.no_foot_lock, beat_guidance=args.beat_guidance, bpm=args.bpm,
            halftime_above_bpm=args.halftime_above, style_scale=args.style_scale,
            beat_warp=args.beat_warp,
        )
        progress.close()
        progress.lap(progress.stage or "sampling")
        for song, motion, stem in zip(songs, motions, output_stems(songs, args.out), strict=True):
            written = write_outputs(motion, song, stem, args, progress.lap)
            print(f"{song} ({motion.duration:.1f} s from {motion.start_offset:.2f} s) -> "
                  + ", ".join(str(p) for p in written))
        progress.report()
    except (au.AudioError, OSError, GeneratorCheckpointError, MotionFileError,
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
