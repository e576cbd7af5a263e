"""Songs as people bring them, bad ones included: a corpus made on the spot, and how to run it.

    python tests/bad_inputs.py [--slow] [--out docs/bad_inputs.md]

:func:`make_corpus` writes every file into a folder (nothing is downloaded): empty, 1 ms, silent,
white noise, a truncated header, a corrupt header, an mp3 cut in the middle, 8 kHz mono, 96 kHz
6-channel, the same music as mp3 / ogg / flac / m4a / opus / wav (encoded by the ffmpeg of
imageio-ffmpeg), a name with spaces and non-ASCII characters, a text file named ``.mp3``, and
with ``slow=True`` a 20-minute song. Each :class:`BadInput` says what it must give: a dance, or
one line naming the problem (``error`` is a part of that line).

:func:`run_cli` runs ``python -m generator.sample`` on one file as a subprocess and
:func:`run_app` sends one file to a running app's ``/generate``; both return an :class:`Outcome`
with what a person would see. ``tests/test_bad_inputs_cli.py`` and
``tests/app/test_bad_inputs.py`` assert on them; run as a script, this module runs the corpus
through both (the tests' untrained tiny generator, a server with the app tests' limits) and
prints the table of ``docs/bad_inputs.md``.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SONG = REPO / "examples" / "song.ogg"
MUSIC_SECONDS: float = 3.0
"""Length of the music files: long enough for beats, short enough to dance in seconds."""
SILENCE_SECONDS: float = 10.0
NOISE_SECONDS: float = 4.0
ONE_MS: float = 0.001
LONG_MINUTES: float = 20.0
LONG_OPUS_KBPS: int = 6
"""The 20-minute song as 6 kb/s mono opus: 0.9 MB, under the app tests' 1 MB upload limit."""
TRUNCATED_HEADER_BYTES: int = 30
"""A wav cut inside its 44-byte header."""
CORRUPT_HEADER_BYTES: int = 64
"""Bytes of a flac's header overwritten with random bytes."""
HI_RATE, HI_CHANNELS = 96000, 6
LOW_RATE = 8000
LEVEL: float = 0.3
"""RMS-ish level of the white noise, full scale."""
FORMATS: tuple[tuple[str, list[str]], ...] = (
    ("mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("ogg", ["-c:a", "libvorbis", "-q:a", "4"]),
    ("flac", ["-c:a", "flac"]),
    ("m4a", ["-c:a", "aac", "-b:a", "128k"]),
    ("opus", ["-c:a", "libopus", "-b:a", "96k"]),
    ("wav", ["-c:a", "pcm_s16le"]),
)
"""The formats people bring, with the ffmpeg encoder options of each."""
UNICODE_NAME = "Café del Mar — ダンス №5.mp3"
TIMEOUT_S: float = 900.0


@dataclass(frozen=True)
class BadInput:
    """One file of the corpus: ``error`` None means it must give a dance, else a part of the one
    line that must name the problem."""

    label: str
    path: Path
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a person saw: a dance (``ok``) or a message; the files left in the output folder."""

    ok: bool
    message: str
    files: tuple[str, ...] = ()
    exit_code: int | None = None
    stderr: str = ""


# --- making the corpus ---------------------------------------------------------------------------
def ffmpeg(args: list[str]) -> None:
    """Run imageio-ffmpeg's ffmpeg with ``args`` (an argument list, no shell)."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args], check=True)


def music(seconds: float = MUSIC_SECONDS) -> tuple[np.ndarray, int]:
    """``(N,)`` float32 mono and its rate: the start of the example song."""
    y, sr = sf.read(EXAMPLE_SONG, dtype="float32", always_2d=True)
    return y[: int(seconds * sr)].mean(axis=1), sr


def encode(y: np.ndarray, sr: int, path: Path, options: list[str]) -> Path:
    """Write ``y`` as a float wav, then have ffmpeg encode it to ``path`` with ``options``."""
    wav = path.with_name(f".{path.stem}.source.wav")
    sf.write(wav, y, sr, subtype="FLOAT")
    try:
        ffmpeg(["-i", str(wav), *options, str(path)])
    finally:
        wav.unlink()
    return path


def make_corpus(folder: str | Path, slow: bool = False) -> list[BadInput]:
    """Write the corpus into ``folder`` (made if needed); the 20-minute song only when ``slow``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y, sr = music()
    rng = np.random.default_rng(0)
    items: list[BadInput] = []

    def add(label: str, name: str, error: str | None = None) -> Path:
        items.append(BadInput(label, folder / name, error))
        return folder / name

    add("empty file", "empty.wav", "the file is empty").write_bytes(b"")
    sf.write(add("1 ms of audio", "one millisecond.wav", "at least 1 s is needed"),
             y[: max(1, round(ONE_MS * sr))], sr)
    sf.write(add("10 s of silence", "silence.wav", "the song is silent"),
             np.zeros(int(SILENCE_SECONDS * sr), np.float32), sr)
    sf.write(add("white noise", "white noise.wav"),
             (LEVEL * rng.standard_normal(int(NOISE_SECONDS * sr))).astype(np.float32), sr)
    whole = folder / ".whole.wav"
    sf.write(whole, y, sr, subtype="PCM_16")
    add("truncated header", "truncated header.wav",
        "not a readable wav audio file").write_bytes(whole.read_bytes()[:TRUNCATED_HEADER_BYTES])
    whole.unlink()
    flac = encode(y, sr, folder / ".whole.flac", ["-c:a", "flac"])
    data = bytearray(flac.read_bytes())
    data[:CORRUPT_HEADER_BYTES] = rng.integers(0, 256, CORRUPT_HEADER_BYTES, dtype=np.uint8).tobytes()
    # libsndfile refuses it; ffmpeg decodes the frames after the broken header but reports it
    add("corrupt header", "corrupt header.flac", "the flac file is damaged").write_bytes(bytes(data))
    flac.unlink()
    mp3 = encode(y, sr, folder / ".whole.mp3", ["-c:a", "libmp3lame", "-b:a", "128k"])
    add("mp3 cut in the middle", "cut short.mp3").write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    mp3.unlink()
    encode(y, sr, add("8 kHz mono", "phone 8k mono.wav"), ["-ar", str(LOW_RATE), "-ac", "1"])
    # 96 kHz 5.1: the music in front left and right, the other channels silent (small as flac:
    # under the app tests' 1 MB upload limit)
    surround = np.zeros((len(y), HI_CHANNELS), np.float32)
    surround[:, :2] = y[:, None]
    sf.write(folder / ".surround.wav", surround, sr, subtype="FLOAT")
    ffmpeg(["-i", str(folder / ".surround.wav"), "-ar", str(HI_RATE), "-c:a", "flac",
            str(add("96 kHz 6-channel", "surround 96k 6ch.flac"))])
    (folder / ".surround.wav").unlink()
    for suffix, options in FORMATS:
        encode(y, sr, add(suffix, f"song.{suffix}"), options)
    encode(y, sr, add("spaces and non-ASCII name", UNICODE_NAME), ["-c:a", "libmp3lame"])
    add("text file named .mp3", "lyrics.mp3", "not a readable mp3 audio file").write_text(
        "Verse 1\nThis is not a song, only its words.\n" * 20
    )
    if slow:
        long = np.resize(y, int(LONG_MINUTES * 60 * sr))
        encode(long, sr, add("20-minute song", "twenty minutes.opus"),
               ["-ac", "1", "-c:a", "libopus", "-b:a", f"{LONG_OPUS_KBPS}k"])
    return items


# --- running it ----------------------------------------------------------------------------------
def folder_files(folder: Path) -> tuple[str, ...]:
    """Every file under ``folder`` (hidden temporary files included), relative, sorted."""
    if not folder.is_dir():
        return ()
    return tuple(sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()))


def run_cli(song: Path, out: Path, checkpoint: str | Path, *extra: str) -> Outcome:
    """``python -m generator.sample SONG --out OUT --checkpoint CKPT --quiet --no-video --steps 1``
    (``extra`` appended) as a subprocess; the message is stderr's last line (not counting the
    untrained-checkpoint warning), empty when stderr says nothing else."""
    cmd = [sys.executable, "-m", "generator.sample", str(song), "--out", str(out), "--checkpoint",
           str(checkpoint), "--quiet", "--no-video", "--steps", "1", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("warning:")]
    message = lines[-1] if lines else ""
    return Outcome(done.returncode == 0, message, folder_files(out), done.returncode, done.stderr)


def run_app(client, song: Path, **kwargs) -> Outcome:
    """Send ``song`` to ``/generate`` through gradio_client; the message is the error shown or the
    dance's notice (empty when it got the dance it asked for)."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    try:
        video, files, scores, _ = client.predict(handle_file(song), api_name="/generate", **kwargs)
    except AppError as err:
        return Outcome(False, str(err))
    return Outcome(True, scores.get("notice", ""), tuple(sorted(Path(f).name for f in [video, *files])))


def table_row(item: BadInput, cli: Outcome | None, app: Outcome | None) -> str:
    """One Markdown row: the input, what the CLI gave, what the app gave."""

    def cell(outcome: Outcome | None, note: str) -> str:
        if outcome is None:
            return "not run"
        if outcome.ok:
            return "dance" + (f"; {note}: `{outcome.message}`" if outcome.message else "")
        code = "" if outcome.exit_code is None else f"exit {outcome.exit_code}: "
        return f"{code}`{outcome.message}`"

    return f"| {item.label} | `{item.path.name}` | {cell(cli, 'stderr')} | {cell(app, 'notice')} |"


def main(argv: list[str] | None = None) -> int:
    """Run the corpus through the CLI and a test server; print the Markdown table."""
    import argparse
    import os
    import tempfile

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slow", action="store_true", help="include the 20-minute song")
    p.add_argument("--out", type=Path, help="also write the table to this file")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests" / "app"))
    from app_testing import SERVER_MAX_SECONDS, SERVER_MAX_UPLOAD_MB, VIDEO_SIZE, free_port
    from gradio_client import Client

    from app.request import Limits
    from app.service import DanceService
    from app.ui import launch
    from generator.sampling.checkpoint import write_untrained_checkpoint
    from motionbeat.core.fileio import atomic_path

    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp / "gradio"))
        checkpoint = write_untrained_checkpoint(tmp / "ckpt" / "generator", size="tiny")
        corpus = make_corpus(tmp / "songs", slow=args.slow)
        service = DanceService.from_checkpoint(
            checkpoint, device="cpu", work_dir=tmp / "work", video_size=VIDEO_SIZE,
            limits=Limits(max_upload_mb=SERVER_MAX_UPLOAD_MB, max_duration=SERVER_MAX_SECONDS))
        port = free_port()
        demo = launch(service, host="127.0.0.1", port=port, block=False)
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            rows = []
            for i, item in enumerate(corpus):
                cli = run_cli(item.path, tmp / f"out{i}", checkpoint)
                app = run_app(client, item.path, steps=1)
                rows.append(table_row(item, cli, app))
                print(rows[-1], file=sys.stderr, flush=True)
        finally:
            demo.close()
            service.close()
    page = "\n".join(["| input | file | `python -m generator.sample` | app `/generate` |",
                      "|---|---|---|---|", *rows, ""])
    print(page)
    if args.out:
        with atomic_path(args.out) as tmp_out:
            tmp_out.write_text(page)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
