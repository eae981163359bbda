#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Tile reuse (crispd --reuse, lib/nn/reuse.c) and the CPU budget of
# --model auto, measured as a receiver runs crispd: each clip sent as a weak
# call (scaled to 640x360, libx264 veryfast zerolatency CRF 32), decoded and
# upscaled x2 to 1280x720 by crispd, paced at the clip's rate (--realtime),
# crisp-rt int8, 2 threads, with and without reuse, natively and with oneDNN
# capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2); plus the clip as it is (no call:
# camera noise changes every tile, the worst case). Reported per run: CPU
# seconds per output frame (crispd's own count from the first output frame
# to the last: the call without the start-up; the whole process's, from
# outside, beside it), cores at 30 fps,
# latency p99, frames dropped, share of 32x32 tiles reused and of tiles
# unchanged (the input within the network's reach identical: what an exact
# reuse without overhead would skip), CPU with --bypass (decoding, scaling,
# the sink: what no reuse saves) and from both the bound on the ratio for
# an exact reuse that costs nothing; the hash sink's
# frames with and without reuse are compared byte for byte. Then the
# default configuration (--model auto, --cpu-budget 0.5) under AVX2 on the
# three clips of the target, reuse off (the default) and on. Runs alternate reuse off/on, `--reps` times.
#
#   python3 bench/reuse.py [--reps 2] [--json bench/results/reuse-DATE.json]
# needs ../shared/data/video; cockatoo from demo/ (bash scripts/demo.sh).
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIDEO = os.path.join(ROOT, '..', 'shared', 'data', 'video')
CRISPD = os.path.join(ROOT, 'build', 'daemon', 'crispd')
MODEL = os.path.join(ROOT, 'models', 'crisp-rt.crisp')


def run(args, env):
    """crispd with args; its stats, CPU seconds (user + system) and wall time"""
    t0 = time.monotonic()
    p = subprocess.Popen([CRISPD] + args, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors='replace')
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'crispd {" ".join(args)} failed: {err.strip()[-400:]}')
    return ru.ru_utime + ru.ru_stime, wall, err


def env_for(isa):
    env = dict(os.environ)
    if isa == 'avx2':
        env['ONEDNN_MAX_CPU_ISA'] = 'AVX2'
    return env


def measure(src, reuse, isa, tmp, extra=()):
    """a paced run to the null sink"""
    stats = os.path.join(tmp, 'stats.json')
    args = ['--input', 'file:' + src, '--output', 'null:', '--realtime',
            '--size', '1280x720', '--threads', '2', '--stats-json', stats]
    args += list(extra) if extra else ['--model', MODEL, '--reuse', str(reuse)]
    cpu, wall, err = run(args, env_for(isa))
    s = json.load(open(stats))
    n = s['frames_out']
    # the call's CPU: crispd's own count from its first output frame to its
    # last (cpu_cores), without the start-up (model auto's timing of every
    # rung, kernels generated, window engines built), which on a clip of
    # ten seconds weighs as much as the frames; the whole process's beside it
    steady = s['cpu_cores'] / s['fps_out'] if s['fps_out'] > 0 else cpu / n
    auto = [l for l in err.splitlines() if 'every tile changed' in l]
    return {'cpu_s_per_frame': steady, 'cores_at_30fps': steady * 30, 'frames': n,
            'cpu_s_per_frame_with_startup': cpu / n, 'cpu_cores': s['cpu_cores'],
            'auto_timing': auto[0].split('changed: ', 1)[-1] if auto else None,
            'dropped': s['dropped_capture'] + s['dropped_infer'] + s['dropped_sink'],
            'latency_p99_ms': s['latency_ms']['p99'], 'infer_p50_ms': s['infer_ms']['p50'],
            'tiles_reused_share': s['tiles_reused_share'],
            'tiles_unchanged_share': s['tiles_unchanged_share'], 'model': s['model'],
            'auto_rule': s['auto_rule']}


def identical(src, isa, tmp):
    """the output frames' hashes with and without reuse (as fast as it goes)"""
    h = []
    for r in (0, 1):
        path = os.path.join(tmp, f'h-{r}.txt')
        run(['--input', 'file:' + src, '--output', 'hash:' + path, '--size', '1280x720',
             '--threads', '2', '--model', MODEL, '--reuse', str(r)], env_for(isa))
        h.append(open(path).read())
    return h[0] == h[1] and len(h[0]) > 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--json', default=os.path.join(
        ROOT, 'bench', 'results', f'reuse-{datetime.date.today().isoformat()}.json'))
    ap.add_argument('--isa', default='native,avx2')
    a = ap.parse_args()
    if not os.path.isdir(VIDEO):
        sys.exit(f'no {VIDEO}: the clips of ../shared/data/video are needed')
    clips = [(n, os.path.join(VIDEO, n + '.mp4')) for n in
             ('office-portrait-720x1280', 'desk-webcam-512x480', 'talking-720p-a', 'talking-720p-b')]
    cock = os.path.join(ROOT, 'demo', 'cockatoo.mp4')
    if os.path.exists(cock):
        clips.append(('cockatoo', cock))
    else:
        print('no demo/cockatoo.mp4 (bash scripts/demo.sh fetches it): left out', file=sys.stderr)
    cpu = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    model_name = next((l.split(':', 1)[1].strip() for l in cpu.splitlines()
                       if l.startswith('Model name')), '?')
    out = {'date': datetime.datetime.now().isoformat(timespec='seconds'), 'cpu': model_name,
           'protocol': '640x360 libx264 veryfast zerolatency CRF 32, upscaled x2 by crispd, '
                       'paced --realtime, crisp-rt int8, --threads 2', 'runs': []}
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for name, path in clips:
            call = os.path.join(tmp, name + '-call.mp4')
            subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', path, '-an', '-vf',
                            'scale=640:360:flags=bicubic', '-c:v', 'libx264', '-preset',
                            'veryfast', '-tune', 'zerolatency', '-crf', '32', '-pix_fmt',
                            'yuv420p', call], check=True)
            sources.append((name + ' (call)', call))
        sources.append(('talking-720p-a (uncoded)', clips[2][1]))
        for isa in a.isa.split(','):
            for name, src in sources:
                same = identical(src, isa, tmp)
                for rep in range(a.reps):
                    order = (0, 1) if rep % 2 == 0 else (1, 0)
                    res = {r: measure(src, r, isa, tmp) for r in order}
                    # everything but the network (decoding, scaling, the
                    # sink): what no reuse can save
                    rest = measure(src, 0, isa, tmp, extra=['--model', MODEL, '--bypass'])
                    off, u = res[0]['cpu_s_per_frame'], res[1]['tiles_unchanged_share']
                    bound = (rest['cpu_s_per_frame'] + (off - rest['cpu_s_per_frame']) * (1 - u)) / off
                    row = {'clip': name, 'isa': isa, 'rep': rep, 'identical': same,
                           'without': res[0], 'with': res[1], 'bypass': rest,
                           'ratio': res[1]['cpu_s_per_frame'] / off, 'exact_bound': bound}
                    out['runs'].append(row)
                    print(f"{isa:6} {name:34} rep {rep}: CPU/frame {res[0]['cpu_s_per_frame']:.4f} -> "
                          f"{res[1]['cpu_s_per_frame']:.4f} s (x{row['ratio']:.3f}), reused "
                          f"{res[1]['tiles_reused_share']:.3f} of {u:.3f} unchanged, bypass "
                          f"{rest['cpu_s_per_frame']:.4f} s, bound x{bound:.3f}, p99 "
                          f"{res[0]['latency_p99_ms']:.1f} / "
                          f"{res[1]['latency_p99_ms']:.1f} ms, dropped {res[0]['dropped']} / "
                          f"{res[1]['dropped']}, identical {same}", flush=True)
        # the default configuration under AVX2: --model auto, --cpu-budget
        # 0.5, reuse off (the default) and on
        out['default_avx2'] = []
        for name, src in sources[:3]:
            for rep in range(a.reps):
                for reuse in (0, 1):
                    r = measure(src, reuse, 'avx2', tmp, extra=['--reuse', str(reuse)])
                    r.update({'clip': name, 'rep': rep, 'reuse': reuse})
                    out['default_avx2'].append(r)
                    print(f"default AVX2 reuse {reuse} {name:34} rep {rep}: {r['model']} ({r['auto_rule']}), "
                          f"{r['cores_at_30fps']:.3f} cores, dropped {r['dropped']}, p99 "
                          f"{r['latency_p99_ms']:.1f} ms, reused {r['tiles_reused_share']:.3f}",
                          flush=True)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    json.dump(out, open(a.json, 'w'), indent=1)
    print('written', a.json)


if __name__ == '__main__':
    main()
