"""`crowd idm prepare|train|eval|label|merge|synth|tiny`: the IDM's command-line provider.

torch, transformers and av are imported inside the handlers so `crowd --help` works on the
light install.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from crowd.serializer.commands import add_scale_arguments

    idm = sub.add_parser("idm", help="inverse dynamics model: prepare clips, train, evaluate, label videos")
    cmds = idm.add_subparsers(dest="idm_command", metavar="STEP")
    idm.set_defaults(handler=lambda a: (idm.print_help(), 2)[1])

    p = cmds.add_parser("prepare", help="recordings (crowd-cast layout) -> clips with action labels")
    p.add_argument("recordings", help="folder with recording_*.mp4 + input_*.msgpack (searched recursively), "
                                      "or s3://bucket/prefix of uploaded desktop sessions (processed on Ray)")
    p.add_argument("out", help="output folder for clips")
    from crowd.idm.options import PrepareOptions, add_train_arguments

    d = PrepareOptions()
    p.add_argument("--fps", type=float, default=d.fps)
    p.add_argument("--window", type=int, default=d.window, help="frames per training clip")
    p.add_argument("--stride", type=int, default=d.stride)
    p.add_argument("--val-window", type=int, default=d.val_window, help="frames per evaluation clip")
    p.add_argument("--val-stride", type=int, default=d.val_stride)
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="share of sessions held out")
    p.add_argument("--keep-empty", type=float, default=d.keep_empty, help="probability of keeping a clip without actions")
    p.add_argument("--max-pixels", type=int, default=d.max_pixels)
    p.add_argument("--held", choices=("events", "once", "frames"), default=d.held, help="held-key repetition")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--workers", type=int, default=d.workers, help="processes (0: one per CPU)")
    add_scale_arguments(p)
    p.set_defaults(handler=_prepare)

    p = cmds.add_parser("train", help="LoRA-train Qwen3-VL on prepared clips (run under torchrun for DDP)")
    add_train_arguments(p)
    p.set_defaults(handler=_train)

    p = cmds.add_parser("eval", help="score a trained model on prepared 25-frame clips")
    p.add_argument("model", help="training output, merged folder, or base model")
    p.add_argument("data", help="folder written by prepare")
    p.add_argument("--split", default="val")
    p.add_argument("--base", help="base model for an adapter (default: the one it was trained on)")
    p.add_argument("--limit", type=int)
    p.add_argument("--predictions", help="write per-clip predictions (jsonl) here")
    p.add_argument("--json", help="write the full result (json) here")
    p.add_argument("--max-new-tokens", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=4)
    p.set_defaults(handler=_eval)

    p = cmds.add_parser("label", help="annotate unlabelled videos with crowd-cast keylogs (a folder or s3:// "
                                      "as batch inference on Ray)")
    p.add_argument("model")
    p.add_argument("video", help="a video; or a folder of recording_*.mp4 or s3://bucket/prefix of desktop "
                                 "bundles (model actors on Ray, one per GPU: needs --out)")
    p.add_argument("--out", help="keylog path (default: input_<uuid>_segNNNN.msgpack beside a recording); "
                                 "for a folder or s3:// the output folder (keylogs, Parquet, dataset card)")
    p.add_argument("--base")
    p.add_argument("--max-new-tokens", type=int, default=512)
    add_scale_arguments(p)
    p.set_defaults(handler=_label)

    p = cmds.add_parser("merge", help="fold a LoRA adapter into its base model")
    p.add_argument("adapter")
    p.add_argument("out")
    p.add_argument("--base")
    p.set_defaults(handler=_merge)

    p = cmds.add_parser("synth", help="write synthetic paired recordings (rendered, or real Xvfb+xdotool)")
    p.add_argument("out")
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--segments", type=int, default=1)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--x11", action="store_true", help="drive a real Xvfb desktop with xdotool, recorded by crowd.capture")
    p.set_defaults(handler=_synth)

    p = cmds.add_parser("import-curated", help="hand-curated evaluation clips (manifest, visibility classes) -> eval split")
    p.add_argument("manifest", help="JSON Lines: video, start, frames, actions with visibility (see docs/idm.md)")
    p.add_argument("out", help="folder to write (scored with `crowd idm eval MODEL OUT`)")
    p.add_argument("--fps", type=float, default=5.0)
    p.add_argument("--max-pixels", type=int, default=524_288)
    p.add_argument("--split", default="val")
    p.set_defaults(handler=_import_curated)

    p = cmds.add_parser("tiny", help="build a randomly initialised Qwen3-VL offline (tiny, or 2b-shaped)")
    p.add_argument("out")
    p.add_argument("--preset", choices=("tiny", "2b"), default="tiny")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_tiny)


def _prepare(a: argparse.Namespace) -> int:
    from crowd.idm.options import PrepareOptions
    from crowd.idm.prepare import prepare

    o = PrepareOptions(fps=a.fps, window=a.window, stride=a.stride, val_window=a.val_window, val_stride=a.val_stride,
                       val_fraction=a.val_fraction, keep_empty=a.keep_empty, max_pixels=a.max_pixels, held=a.held,
                       seed=a.seed, workers=a.workers)
    try:
        if a.ray is not None or a.recordings.startswith("s3://"):
            from crowd.cluster.engine import RayMissing
            from crowd.idm.sharded import run_prepare
            from crowd.serializer.commands import scale_engine

            engine, address = scale_engine(a.ray)
            try:
                r = run_prepare(a.recordings, a.out, o, address, a.num_cpus, engine=engine, endpoint=a.s3_endpoint)
            except RayMissing as exc:
                raise ValueError(str(exc)) from exc
        else:
            r = prepare(a.recordings, a.out, o)
    except (FileNotFoundError, ValueError) as exc:
        print(f"crowd idm prepare: {exc}", file=sys.stderr)
        return 1
    print(f"clips: train {r.clips.get('train', 0)}, val {r.clips.get('val', 0)}; {r.segments} segments, "
          f"{r.frames} frames ({r.black_frames} black removed), {r.empty_dropped} empty clips dropped")
    for s in r.skipped:
        print(f"skipped: {s}", file=sys.stderr)
    for s in r.truncated_keylogs:
        print(f"warning: {s}: truncated keylog; its clips are marked keylog_truncated", file=sys.stderr)
    if r.clips_past_truncation:
        print(f"warning: {r.clips_past_truncation} clips past a keylog's truncation dropped (actions unknown)",
              file=sys.stderr)
    return 0


def _train(a: argparse.Namespace) -> int:
    import logging

    from crowd.idm.options import train_options_from_args
    from crowd.idm.train import train

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(train(train_options_from_args(a))))
    return 0


def _import_curated(a: argparse.Namespace) -> int:
    from crowd.idm.curated import ManifestError, import_curated

    try:
        n = import_curated(a.manifest, a.out, a.fps, a.max_pixels, a.split)
    except (ManifestError, FileNotFoundError) as exc:
        print(f"crowd idm import-curated: {exc}", file=sys.stderr)
        return 1
    print(f"{n} curated clips -> {a.out}/{a.split}.jsonl")
    return 0


def _eval(a: argparse.Namespace) -> int:
    from crowd.idm.evaluate import evaluate, report_table
    from crowd.idm.inference import load_predictor

    pred = load_predictor(a.model, base=a.base, max_new_tokens=a.max_new_tokens, batch_size=a.batch_size)
    result = evaluate(pred, a.data, a.split, a.limit, a.predictions)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1))
    print(report_table(result))
    return 0


def _label(a: argparse.Namespace) -> int:
    if a.ray is not None or a.video.startswith("s3://") or Path(a.video).is_dir():
        return _label_sharded(a)
    from crowd.idm.inference import load_predictor
    from crowd.idm.label import label_video

    pred = load_predictor(a.model, base=a.base, max_new_tokens=a.max_new_tokens)
    try:
        path, actions = label_video(pred, a.video, a.out)
    except (FileNotFoundError, ValueError) as exc:
        print(f"crowd idm label: {exc}", file=sys.stderr)
        return 1
    print(f"{len(actions)} actions -> {path}")
    return 0


def _label_sharded(a: argparse.Namespace) -> int:
    from crowd.cluster.engine import RayMissing
    from crowd.idm.sharded import run_label
    from crowd.serializer.commands import scale_engine

    if not a.out:
        print("crowd idm label: a folder or s3:// source needs --out (a new folder)", file=sys.stderr)
        return 2
    engine, address = scale_engine(a.ray)
    try:
        r = run_label(a.model, a.video, a.out, address, a.num_cpus, base=a.base, max_new_tokens=a.max_new_tokens,
                      engine=engine, endpoint=a.s3_endpoint)
    except (FileNotFoundError, ValueError, RayMissing) as exc:
        print(f"crowd idm label: {exc}", file=sys.stderr)
        return 1
    for failure in r.failed:
        print(f"failed: {failure}", file=sys.stderr)
    print(f"{r.actions} actions in {len(r.keylogs)} keylogs -> {a.out}")
    return 0 if not r.failed else 1


def _merge(a: argparse.Namespace) -> int:
    from crowd.idm.modeling import is_adapter_dir, merge_adapter

    if not is_adapter_dir(a.adapter):
        print(f"crowd idm merge: {a.adapter} has no adapter_config.json", file=sys.stderr)
        return 1
    print(merge_adapter(a.adapter, a.out, base=a.base))
    return 0


def _synth(a: argparse.Namespace) -> int:
    if a.x11:
        from crowd.idm.synth_x11 import generate_x11

        ids = generate_x11(a.out, sessions=a.sessions, seconds=a.seconds, seed=a.seed)
    else:
        from crowd.idm.synth import generate

        ids = generate(a.out, sessions=a.sessions, segments=a.segments, seconds=a.seconds, seed=a.seed)
    print("\n".join(ids))
    return 0


def _tiny(a: argparse.Namespace) -> int:
    from crowd.idm.tiny import build_tiny_model

    print(build_tiny_model(a.out, preset=a.preset, seed=a.seed))
    return 0
