#!/usr/bin/env python3
"""Unseen corpora for match_eval (issue 12): the photo corpus's edit families
applied to other originals with other seeds.

The visible photo corpus (--photos PHOTOS, not in this repository) is made by its make.py;
this script takes that file's edits() (the same 16 families and parameter
ranges) and applies it, with seed SEED + i, to every original of the PDQ test
corpus (--originals PDQ_IMAGES: its *__orig.* files, 33), each first made
into uNN__orig.jpg the way make.py makes its originals (longest side at most
960 px, JPEG q88). The output has the photo corpus's layout (images/ and
edits.tsv), so `match_eval --corpus OUT` reads it. Needs ImageMagick 6
(Debian 12's `imagemagick`) and fonts-dejavu-core, as make.py does.

  python3 tests/bench/make_unseen_corpus.py --seed 5000 --out /tmp/unseen5000 \
      --photos PHOTOS --originals PDQ_IMAGES

--sources FILE takes the originals from a list of image paths instead (one a
line, # comments): tests/bench/unseen_photo_sources.txt lists real photos and
artworks from Debian 12 wallpaper packages that the photo corpus does not use,
a fair unseen set of the photo corpus's kind (install the packages it names).
"""
import argparse
import glob
import importlib.util
import os
import random
import sys



def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seed', type=int, required=True, help='copy i (1-based) uses SEED + i')
    p.add_argument('--out', required=True)
    p.add_argument('--photos', required=True, help="the photo corpus's folder (holding its make.py)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--originals', help='folder of the PDQ corpus images (*__orig.*)')
    src.add_argument('--sources', help='file listing image paths, one a line (# comments)')
    args = p.parse_args()
    spec = importlib.util.spec_from_file_location('photos_make', os.path.join(args.photos, 'make.py'))
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    out = os.path.join(args.out, 'images')
    os.makedirs(out, exist_ok=True)
    if args.sources:
        with open(args.sources) as f:
            sources = [l.split('#')[0].strip() for l in f]
        sources = [s for s in sources if s]
        missing = [s for s in sources if not os.path.exists(s)]
        if missing:
            sys.exit(f'missing sources (install the packages {args.sources} names): {missing[:3]}')
    else:
        sources = sorted(glob.glob(os.path.join(args.originals, '*__orig.*')))
    rows = ['file\tfamily\tparameters\tsource']
    for i, src in enumerate(sources, 1):
        g = f'u{i:02d}'
        o = os.path.join(out, f'{g}__orig.jpg')
        make.im(src, '-auto-orient', '-resize', '960x960>', '-strip', '-quality', 88, o)
        w, h = make.size(o)
        r = random.Random(args.seed + i)
        for family, params, edit in make.edits(o, w, h, r):
            f = os.path.join(out, f'{g}__{family}.jpg')
            make.im(*edit, f)
            rows.append(f'images/{g}__{family}.jpg\t{family}\t{params}\t{os.path.basename(src)}')
        print(g, os.path.basename(src), file=sys.stderr)
    with open(os.path.join(args.out, 'edits.tsv'), 'w') as f:
        f.write('\n'.join(rows) + '\n')


if __name__ == '__main__':
    main()
