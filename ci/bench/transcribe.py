"""Real-time factor of clconv transcribe against Basic Pitch's Python predict, in one run.

A 30-second synthesized recording (44.1 kHz 16-bit stereo, notes of ci/transcribe/clips.py) is
transcribed to MIDI, in rounds, alternating:
- clconv transcribe, a fresh process each time (warm program caches): the wall time end to end;
- Basic Pitch's predict_and_save in a fresh Python process, as its `basic-pitch` command runs it
  (imports, librosa's load and resampling, the ONNX model on onnxruntime, note creation, MIDI);
- Basic Pitch's predict called again in one warm process (imports and first-call compilation paid
  before the clock starts): its best case;
then clconv's first run on a fresh machine: empty ConvCL and PoCL caches, against F (with
--trivial-kernel, ci/bench/trivial_kernel.c built: a fresh process that builds and runs one trivial
kernel with an empty PoCL cache, what the OpenCL driver alone costs), measured next to it.
Prints seconds of audio per second of wall time and the ratios; writes transcribe.json.

Usage: transcribe.py MODEL CLCONV OUTDIR [--rounds R] [--seconds S] [--trivial-kernel PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "transcribe"))
import clips  # noqa: E402

WARM = r"""
import logging, sys, time
logging.disable(logging.WARNING)
from basic_pitch import inference
model = inference.Model(sys.argv[1])
inference.predict(sys.argv[2], model)  # first call: compilation and caches
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    _, midi, _ = inference.predict(sys.argv[2], model)
    midi.write(sys.argv[4])
    times.append(time.perf_counter() - start)
print(min(times))
"""

COLD = r"""
import logging, sys
logging.disable(logging.WARNING)
from basic_pitch import inference
_, midi, _ = inference.predict(sys.argv[2], inference.Model(sys.argv[1]))
midi.write(sys.argv[3])
"""


def recording(path, seconds, seed=7):
    rng = np.random.default_rng(seed)
    notes, t = [], 0.3
    while t < seconds - 1:
        for name, clip in clips.clips(int(rng.integers(1 << 30))).items():
            for onset, offset, pitch, velocity in clip:
                if t + offset < seconds - 0.5:
                    notes.append((t + onset, t + offset, pitch, velocity))
            t += max(n[1] for n in clip) + 0.3
            if t >= seconds - 1:
                break
    samples = clips.render(notes, 44100, rng, length=seconds)
    clips.write_wav(path, samples, 44100, "pcm", 16, 2)


def timed(command, env=None):
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("clconv")
    parser.add_argument("outdir")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--trivial-kernel")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    wav = os.path.join(work, "recording.wav")
    recording(wav, args.seconds)
    mid = os.path.join(work, "out.mid")
    ours_command = [args.clconv, "transcribe", wav, "--model", args.model, "--midi", mid]
    theirs_command = [sys.executable, "-c", COLD, args.model, wav, mid]
    subprocess.run(ours_command, check=True, stderr=subprocess.DEVNULL)  # caches warm
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(timed(ours_command))
        theirs.append(timed(theirs_command))
    warm = float(subprocess.run([sys.executable, "-c", WARM, args.model, wav, str(args.rounds), mid], check=True, capture_output=True, text=True).stdout.split()[-1])
    caches = tempfile.mkdtemp()
    env = dict(os.environ, CONVCL_CACHE_DIR=os.path.join(caches, "convcl"), POCL_CACHE_DIR=os.path.join(caches, "pocl"))
    first = timed(ours_command, env)
    f = None
    if args.trivial_kernel:
        f = timed([args.trivial_kernel], dict(os.environ, POCL_CACHE_DIR=tempfile.mkdtemp()))

    result = {
        "audio_seconds": args.seconds,
        "clconv_seconds": statistics.median(ours),
        "basic_pitch_process_seconds": statistics.median(theirs),
        "basic_pitch_warm_seconds": warm,
        "clconv_first_run_empty_caches_seconds": first,
        "trivial_kernel_seconds": f,
        "round_ratios": [b / a for a, b in zip(ours, theirs)],
    }
    result["speedup_vs_basic_pitch_process"] = result["basic_pitch_process_seconds"] / result["clconv_seconds"]
    result["speedup_vs_basic_pitch_warm"] = warm / result["clconv_seconds"]
    rtf = lambda seconds: args.seconds / seconds  # noqa: E731
    print(f"transcribe {args.seconds:.0f} s of 44.1 kHz stereo audio to MIDI (median of {args.rounds} rounds):")
    print(f"  clconv transcribe (a fresh process):     {result['clconv_seconds']:.2f} s, {rtf(result['clconv_seconds']):.1f}x real time")
    print(f"  Basic Pitch predict (a fresh process):   {result['basic_pitch_process_seconds']:.2f} s, {rtf(result['basic_pitch_process_seconds']):.1f}x real time"
          f" -> clconv {result['speedup_vs_basic_pitch_process']:.2f}x (per round: {', '.join(f'{r:.2f}' for r in result['round_ratios'])})")
    print(f"  Basic Pitch predict (warm, best):        {warm:.2f} s, {rtf(warm):.1f}x real time -> clconv {result['speedup_vs_basic_pitch_warm']:.2f}x")
    print(f"  clconv first run, empty caches:          {first:.2f} s" + (f" ({first / f:.1f} F; F = {f:.2f} s)" if f else ""))
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, "transcribe.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
