#!/usr/bin/env python3
"""End-to-end benchmark of the big models (issue 16): whole CLI commands under /usr/bin/time.

    /usr/bin/python3 tools/make_bench_models.py --out /tmp/bigmodels vgg16 resnet50 convnext_tiny vit_b_16
    dotnet build -c Release src/Salient.Cli
    /usr/bin/python3 bench/e2e/run_e2e.py --models /tmp/bigmodels [--runs 3] [--names vgg16,resnet50]

For each model, alternating within each round (so a busy machine hits all commands alike):
`salient predict`, `salient explain --method gradcam`, `salient explain --method guidedbackprop`
(the built CLI binary, not `dotnet run`) and the PyTorch peer (bench/e2e/gradcam_peer.py, the same
Grad-CAM as pytorch-grad-cam), and with --baseline-cli the same commands of another build. Prints a markdown table: median and range of wall seconds, and the
largest peak RSS, per command; the load average before and after, so a busy machine shows.
"""
import argparse, os, re, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(cmd):
    r = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, (r.stderr.strip().splitlines() or ['?'])[0]
    wall = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)', r.stderr)
    rss = re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr)
    secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)))
    return secs, int(rss.group(1)) / 1024, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='/tmp/bigmodels')
    ap.add_argument('--names', default='vgg16,resnet50,convnext_tiny,vit_b_16')
    ap.add_argument('--image', default=os.path.join(ROOT, '..', 'shared', 'images', 'both.png'))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--cli', default=os.path.join(ROOT, 'src', 'Salient.Cli', 'bin', 'Release', 'net10.0', 'Salient.Cli'))
    ap.add_argument('--baseline-cli', help='a second build (e.g. main) whose commands join the same rotation, as "before"')
    ap.add_argument('--no-peer', action='store_true')
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix='salient-e2e-')
    print(f'load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})', file=sys.stderr)
    rows = []
    for name in args.names.split(','):
        model = os.path.join(args.models, name + '.onnx')
        cmds = {
            'predict': [args.cli, 'predict', args.image, '--model', model],
            'gradcam': [args.cli, 'explain', args.image, '--model', model, '--method', 'gradcam', '--out', out, '--force'],
            'guidedbackprop': [args.cli, 'explain', args.image, '--model', model, '--method', 'guidedbackprop', '--out', out, '--force'],
        }
        if args.baseline_cli:
            for k in list(cmds):
                cmds[k + ' (before)'] = [args.baseline_cli] + cmds[k][1:]
        if not args.no_peer and os.path.exists(os.path.join(args.models, name + '.pt')):
            cmds['peer gradcam (PyTorch)'] = ['/usr/bin/python3', os.path.join(HERE, 'gradcam_peer.py'), args.models, name,
                                              args.image, os.path.join(out, name + '_peer.png')]
        results = {k: [] for k in cmds}
        errors = {}
        for _ in range(args.runs):
            for k, c in cmds.items():
                if k in errors: continue
                secs, mb, err = timed(c)
                if err: errors[k] = err
                else: results[k].append((secs, mb))
        for k in cmds:
            if k in errors:
                rows.append(f'| {name} | {k} | failed: {errors[k][:80]} | |')
                continue
            walls = [w for w, _ in results[k]]
            rows.append(f'| {name} | {k} | {statistics.median(walls):.2f} ({min(walls):.2f}–{max(walls):.2f}) | {max(m for _, m in results[k]):.0f} |')
        print(f'{name} done', file=sys.stderr)
    print(f'load average after: {os.getloadavg()[0]:.2f}', file=sys.stderr)
    print('| model | command | wall s, median (range) | peak RSS MB (max) |')
    print('|---|---|---|---|')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
