#!/usr/bin/env python3
"""Evaluates PDQ match policies on the hits match_eval and match_fp dump.

  match_eval --corpus PHOTOS --offline --dump eval.tsv
  match_fp ... --dump fp.tsv
  python3 tests/bench/match_policy.py --fp fp.tsv --eval eval.tsv [--eval unseen.tsv]

A hit is one hash pair within 80 bits: distance, tier (0 normal, 1 a
low-quality side), checked kind (0 the whole copy or a dihedral variant,
1 a checker region), stored kind (0 the plain hash, 1 an owner window),
checked source (the dihedral variants are source 0), stored source,
qualities, and (newer dumps) the fine kinds of both hashes: 0..7 the
whole image's dihedral variant (0 the plain hash, pdq_core.h order), 8 +
the region's pdq::RegionKind (client/pdq/match_regions.h). --pairings
measures which fine (checked, stored) kinds true copies need and what
rules that let only some of them meet cost and save (README.md#matching,
"Which checked hash meets which stored hash"). A policy turns an image pair's hits into a score; the pair
matches when score <= 0. Recall and wrong matches come from match_eval's
dump; the false-match chance per check at 10 M registered images from the
scores of match_fp's unrelated image pairs: log10 of their cumulative
share fitted by a straight line over its low tail (share <= 1e-3, >= 10
pairs) and read at 0, times 10 M (README.md#matching).
"""
import argparse, math, sys
from collections import defaultdict

INF = 10 ** 6


def parse_hits(field):
    """Hits as (d, t, ck, sk, cs, ss, qc, qs, fine checked kind, fine stored
    kind); dumps without fine kinds give -1 for both."""
    out = []
    for h in field.split():
        v = list(map(int, h.split(',')))
        if len(v) == 8:
            v += [-1, -1]
        out.append(tuple(v))
    return out


def read_fp(path):
    """(pairs, hist, best, n, fine): fine[(tier, checked fine kind, stored
    fine kind)] = (hash pairs per check per registered image, histogram)."""
    pairs, hist, best, n, fine = [], {}, {}, (0, 0), {}
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if f[0] == 'P':
            pairs.append((f[1], f[2], int(f[3]), parse_hits(f[6])))
        elif f[0] == 'N':
            n = (int(f[1]), int(f[2]))
        elif f[0] in 'HBK':
            key = (int(f[1]), int(f[2]), int(f[3]))
            {'H': hist, 'B': best, 'K': fine}[f[0]][key] = (
                float(f[4]), list(map(int, f[5].split(','))))
    return pairs, hist, best, n, fine


def read_eval(path):
    copies = []  # (file, family, own, hits)
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if f[0] == 'C':
            copies.append((f[1], f[2], int(f[3]), parse_hits(f[6])))
    return copies


class Policy:
    """single[t][ck][sk]: threshold of one hit in that stratum (None: a hit
    there never matches alone); pair[t][ck][sk]: threshold of each of two
    hits (distinct checked and stored sources) that match together;
    min_q: a single hit needs both qualities >= min_q[t][ck][sk]."""

    def __init__(self, name, single, pair=None, min_q=None, allow=None):
        self.name, self.single, self.pair, self.min_q = name, single, pair or {}, min_q or {}
        # allow(checked fine kind, stored fine kind): False drops the hash
        # pair altogether (the registry would not compare them).
        self.allow = allow

    def score(self, hits):
        best = INF
        twos = []
        for h in hits:
            d, t, ck, sk, cs, ss, qc, qs, fc, fs = h
            if self.allow is not None and not self.allow(fc, fs):
                continue
            key = (t, ck, sk)
            T = self.single.get(key)
            if T is not None and min(qc, qs) >= self.min_q.get(key, 0):
                best = min(best, d - T)
            T2 = self.pair.get(key)
            if T2 is not None:
                twos.append((d - T2, cs, ss))
        if len(twos) >= 2:
            twos.sort()
            for i in range(len(twos)):
                if twos[i][0] >= best:
                    break
                for j in range(i + 1, len(twos)):
                    if twos[j][0] >= best:
                        break
                    if twos[i][1] != twos[j][1] and twos[i][2] != twos[j][2]:
                        best = min(best, twos[j][0])
                        break
        return best


def poisson_upper95(k):
    """One-sided 95 % upper bound of a Poisson mean after k events."""
    return {0: 3.00, 1: 4.74, 2: 6.30, 3: 7.75, 4: 9.15, 5: 10.51}.get(k, k + 1.645 * math.sqrt(k) + 1.5)


def fit_line(points):
    n = len(points)
    sx = sum(x for x, _ in points); sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points); sxy = sum(x * y for x, y in points)
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return slope, (sy - slope * sx) / n


def tail_log(counts, total, at, max_share=1e-3, lo=None, hi=None):
    """counts: {score: pairs}; returns (log10 share at `at`, fit text)."""
    cum, pts, first = 0, [], None
    for s in sorted(counts):
        cum += counts[s]
        if first is None:
            first = s
        share = cum / total
        if cum >= 10 and share <= max_share and (lo is None or s >= lo) and (hi is None or s <= hi):
            pts.append((s, math.log10(share)))
    if len(pts) < 3:
        return float('nan'), 'closest %s, too few tail points' % first
    slope, icpt = fit_line(pts)
    return icpt + slope * at, 'closest %d, fit %d..%d slope %.4f' % (first, pts[0][0], pts[-1][0], slope)


def evaluate(policy, fp, evals, registered=1e7, verbose=True):
    pairs, _, _, n, _ = fp
    total = n[0] + n[1]
    counts = defaultdict(int)
    for c, s, rw, hits in pairs:
        sc = policy.score(hits)
        if sc < INF:
            counts[sc] += 1
    # Scores above 80 - the largest threshold are incomplete (hits > 80 not dumped).
    log_p, text = tail_log(counts, total, 0, hi=40)
    within = sum(v for k, v in counts.items() if k <= 0)
    up = math.log10(poisson_upper95(within) / total)
    out = ['%-38s unrelated image pairs matched %d of %.2e (95 %% upper 10^%.1f per pair, 10^%.1f per '
           'check); line 10^%.1f per pair, 10^%.1f per check (%s)' % (
               policy.name, within, total, up, up + math.log10(registered), log_p,
               log_p + math.log10(registered), text)]
    for path, copies in evals:
        own_ok, wrong, fam_miss = set(), 0, defaultdict(int)
        files = set()
        for file, family, own, hits in copies:
            files.add((file, family))
            if policy.score(hits) <= 0:
                if own:
                    own_ok.add(file)
                else:
                    wrong += 1
        out.append('    %s: copies matched %d, wrong %d' % (path, len(own_ok), wrong))
    if verbose:
        print('\n'.join(out))
    return log_p


def strata_union(fp, thresholds, registered=1e7):
    """Union bound over hash pairs, each stratum at its own threshold."""
    _, hist, _, _, _ = fp
    total_log = 0
    s = 0
    for key, (per_check, h) in sorted(hist.items()):
        T = thresholds.get(key)
        tot = sum(h)
        if T is None or tot == 0:
            continue
        counts = {d: c for d, c in enumerate(h) if c}
        lp, text = tail_log(counts, tot, T, max_share=1e-4)
        contrib = registered * per_check * 10 ** lp if not math.isnan(lp) else float('nan')
        print('  stratum %s: %.2f pairs per check per image, %s, per pair 10^%.1f at %d, per check 10^%.1f'
              % (key, per_check, text, lp, T, math.log10(contrib) if contrib == contrib and contrib > 0 else float('nan')))
        if contrib == contrib:
            s += contrib
    print('  union over strata: per check 10^%.1f' % math.log10(s))


def holdout(fp, cut=64):
    """Is the straight line conservative? Fit each stratum's hash-pair tail
    above `cut` only and compare what it predicts below with what was seen."""
    _, hist, best, _, _ = fp
    print('hold-out: line fitted on d >= %d (share <= 1e-4 hash pairs, 1e-3 image pairs), '
          'predicted | observed count at d <= 40, 48, 56' % cut)
    for what, src, ms in (('hash pairs', hist, 1e-4), ('image pairs', best, 1e-3)):
        for key, (_, h) in sorted(src.items()):
            tot = sum(h)
            cum, c = [], 0
            for v in h:
                c += v
                cum.append(c)
            pts = [(d, math.log10(cum[d] / tot)) for d in range(257)
                   if d >= cut and cum[d] >= 10 and cum[d] / tot <= ms]
            if len(pts) < 4 or cum[56] == 0:
                continue
            slope, icpt = fit_line(pts)
            cells = ['%.1f | %d' % (tot * 10 ** (icpt + slope * d), cum[d]) for d in (40, 48, 56)]
            print('  %-11s %s: %s' % (what, key, '; '.join(cells)))


# Fine kinds (match_eval / match_fp --dump): the whole image's dihedral
# variants, then 8 + client/pdq/match_regions.h's RegionKind, then (with
# --region-mirrors) 16 + the kind of the checker region whose mirror it is.
REGION_NAMES = ['whole', 'trimmed', 'caption-trimmed', 'centred', 'aspect', 'turned', 'band',
                'anchor']
FINE_NAMES = (['plain', 'rot90', 'rot180', 'rot270', 'flip-x', 'mirror', 'transpose',
               'anti-transpose'] + REGION_NAMES + ['mirrored ' + n for n in REGION_NAMES])
PLAIN, WHOLE, TRIMMED, CAPTION, CENTRED, ASPECT, TURNED, BAND, ANCHOR = 0, 8, 9, 10, 11, 12, 13, 14, 15


def fine_name(k):
    return FINE_NAMES[k] if 0 <= k < len(FINE_NAMES) else '?%d' % k


def today_threshold(t):
    return 31 if t == 0 else 20


def own_hit_combos(copies):
    """For each copy matched to its own original today: the (checked, stored)
    fine kinds of its hits within the tier's threshold."""
    out = []
    for file, family, own, hits in copies:
        if not own:
            continue
        combos = {(h[8], h[9]) for h in hits if h[0] <= today_threshold(h[1])}
        if combos:
            out.append((file, family, combos))
    return out


def pairing_rules():
    """Candidate rules: which checked fine kinds may meet which stored ones.
    Each is allow(checked, stored) -> bool. None is applied by the registry
    (README.md#matching): the variants' rule loses mirrored or turned crops,
    the others save 0.1 order or less."""
    dihedral = lambda c: 1 <= c <= 7
    r_dih = lambda c, s: not (dihedral(c) and s != PLAIN)
    r_anchor = lambda c, s: not (c == ANCHOR and s != ANCHOR)
    r_anchor_p = lambda c, s: not (c == ANCHOR and s not in (ANCHOR, PLAIN))
    r_turned = lambda c, s: not (c == TURNED and s not in (TURNED, WHOLE, PLAIN))
    r_band = lambda c, s: not (c == BAND and s not in (BAND, PLAIN, WHOLE))
    r_trim = lambda c, s: not (c in (TRIMMED, CAPTION) and s == ANCHOR)
    r_dih_crops = lambda c, s: not (dihedral(c) and s not in (PLAIN, WHOLE, CENTRED, ASPECT))
    rules = [
        ('dihedral variants (not the plain hash) x stored plain only', r_dih),
        ('dihedral variants x stored plain, whole, centred, aspect', r_dih_crops),
        ('checker anchors x owner anchors only', r_anchor),
        ('checker anchors x owner anchors and plain', r_anchor_p),
        ('checker turned copy x owner turned, whole and plain only', r_turned),
        ('checker bands x owner bands, whole and plain only', r_band),
        ('checker trimmed regions never x owner anchors', r_trim),
        ('dihedral rule + anchors x anchors and plain', lambda c, s: r_dih(c, s) and r_anchor_p(c, s)),
        ('all of the above but "anchors x anchors only"',
         lambda c, s: r_dih(c, s) and r_anchor_p(c, s) and r_turned(c, s) and r_band(c, s)
         and r_trim(c, s)),
    ]
    return rules


def fine_union(fp, allow, registered=1e7, verbose=False):
    """Union bound over the hash pairs a rule keeps: per coarse stratum (tier,
    checked region?, stored window?), the kept fine kinds' hash pairs per
    check, each stratum's line fitted to the kept pairs' tail and read at
    its tier's threshold; also the same pairs at the stratum's per-pair
    chance of today (the line through all its pairs), which does not
    depend on a thin kept tail. Returns (pairs per check per image, log10
    per check by the kept lines, log10 per check at today's per-pair)."""
    _, hist, _, _, fine = fp
    strata = {}
    for (t, c, st), (per_check, h) in fine.items():
        key = (t, 0 if c < 8 else 1, 0 if st == 0 else 1)
        agg = strata.setdefault(key, [0.0, [0] * 257, 0.0])
        agg[2] += per_check
        if allow is None or allow(c, st):
            agg[0] += per_check
            agg[1] = [a + b for a, b in zip(agg[1], h)]
    total_pairs, s_kept, s_today = 0.0, 0.0, 0.0
    for key in sorted(strata):
        per_check, h, per_check_all = strata[key]
        total_pairs += per_check
        T = today_threshold(key[0])
        tot = sum(h)
        if per_check == 0 or tot == 0:
            continue
        lp, text = tail_log({d: c for d, c in enumerate(h) if c}, tot, T, max_share=1e-4)
        _, hall = hist[key]
        lp_all, _ = tail_log({d: c for d, c in enumerate(hall) if c}, sum(hall), T, max_share=1e-4)
        if lp == lp:
            s_kept += registered * per_check * 10 ** lp
        if lp_all == lp_all:
            s_today += registered * per_check * 10 ** lp_all
        if verbose:
            print('    stratum %s: %.1f of %.1f pairs per check per image kept, %s, per pair 10^%.1f '
                  '(all pairs 10^%.1f), per check 10^%.1f' % (
                      key, per_check, per_check_all, text, lp, lp_all,
                      math.log10(registered * per_check * 10 ** lp) if lp == lp else float('nan')))
    return total_pairs, math.log10(s_kept), math.log10(s_today)


def pairings(fp, evals, registered=1e7):
    """Which (checked, stored) fine kinds true copies need, and the rules."""
    _, _, _, _, fine = fp
    if not fine or any(h[8] < 0 for _, c in evals for x in c for h in x[3][:1]):
        print('\npairings: the dumps carry no fine kinds (rebuild match_eval / match_fp)')
        return
    own = [(path, own_hit_combos(copies)) for path, copies in evals]
    print('\npairings (checked fine kind x stored fine kind): hash pairs per check per registered '
          'image (normal + low-quality tier), closest unrelated hash pair (normal | low), own '
          'copies within the threshold with it | only with it, per --eval:')
    combos = set(k[1:] for k in fine) | {c for _, o in own for x in o for c in x[2]}
    rows = []
    for c, st in sorted(combos):
        per = [fine.get((t, c, st), (0.0, None))[0] for t in (0, 1)]
        closest = []
        for t in (0, 1):
            h = fine.get((t, c, st), (0, None))[1]
            closest.append(next((d for d, v in enumerate(h) if v), '-') if h else '-')
        cells = []
        for _, o in own:
            anyc = sum(1 for x in o if (c, st) in x[2])
            only = sum(1 for x in o if x[2] == {(c, st)})
            cells.append('%d|%d' % (anyc, only))
        rows.append((c, st, per, closest, cells))
        print('  %-15s x %-15s %7.2f + %6.2f  closest %3s | %3s   %s' % (
            fine_name(c), fine_name(st), per[0], per[1], closest[0], closest[1], '  '.join(cells)))
    base_pairs, base_kept, base_today = fine_union(fp, None, registered)
    print()
    evaluate(Policy('today: every checked hash x every stored hash',
                    {(t, ck, sk): today_threshold(t) for t in (0, 1) for ck in (0, 1)
                     for sk in (0, 1)}), fp, evals, registered)
    print('\nrules (union bound at 10 M; "kept lines": each stratum\'s line through the pairs a '
          'rule keeps; "today\'s per pair": the kept pairs at the stratum\'s per-pair chance of '
          'all its pairs):')
    print('  %-58s pairs per check per image %.1f, per check 10^%.1f (kept lines) 10^%.1f '
          '(today\'s per pair)' % ('today: every checked hash x every stored hash', base_pairs,
                                   base_kept, base_today))
    for name, allow in pairing_rules():
        kept_pairs, lk, lt = fine_union(fp, allow, registered)
        print('  %-58s pairs per check per image %.1f, per check 10^%.1f (kept lines) 10^%.1f '
              '(today\'s per pair)' % (name, kept_pairs, lk, lt))
        for path, o in own:
            lost = [x for x in o if not any(allow(c, st) for c, st in x[2])]
            print('    %s: %d of %d own matches kept%s' % (
                path, len(o) - len(lost), len(o),
                (', lost: ' + ', '.join('%s (%s)' % (x[0].split('/')[-1], ' '.join(
                    '%s x %s' % (fine_name(c), fine_name(st)) for c, st in sorted(x[2])))
                                       for x in lost)) if lost else ''))
        evaluate(Policy(name, {k: today_threshold(k[0]) for k in
                               [(t, ck, sk) for t in (0, 1) for ck in (0, 1) for sk in (0, 1)]},
                        allow=allow), fp, evals, registered)
        fine_union(fp, allow, registered, verbose=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fp', required=True)
    ap.add_argument('--eval', action='append', default=[])
    ap.add_argument('--pairings', action='store_true',
                    help='only the pairings of fine kinds and the rules restricting them')
    a = ap.parse_args()
    fp = read_fp(a.fp)
    evals = [(p, read_eval(p)) for p in a.eval]
    ALL = [(t, ck, sk) for t in (0, 1) for ck in (0, 1) for sk in (0, 1)]
    if a.pairings:
        pairings(fp, evals)
        return

    def today(t):
        return 31 if t == 0 else 20

    base = Policy('today (31 / 20)', {k: today(k[0]) for k in ALL})
    print('strata at today\'s thresholds (tier, checked kind, stored kind), union over hash pairs:')
    strata_union(fp, base.single)
    holdout(fp)
    print('\npolicies:')
    policies = [base]
    for low in (18, 16, 12):
        single = {k: (today(k[0]) if k[0] == 0 else low) for k in ALL}
        policies.append(Policy('low-quality %d' % low, single))
        policies.append(Policy('low-quality %d, two hits %d' % (low, 20), single,
                               {k: 20 for k in ALL if k[0] == 1}))
    for win in (28, 24):
        single = {k: (win if k[2] == 1 or k[1] == 1 else today(k[0])) for k in ALL}
        for k in ALL:
            if k[0] == 1:
                single[k] = min(single[k], 20)
        policies.append(Policy('windows and regions %d' % win, single))
        policies.append(Policy('windows and regions %d, two hits 31' % win, single,
                               {k: today(k[0]) for k in ALL}))
    policies.append(Policy('no checker region x stored plain',
                           {k: today(k[0]) for k in ALL if not (k[1] == 1 and k[2] == 0)}))
    policies.append(Policy('whole x plain only (PDQ alone)', {k: today(k[0]) for k in ALL
                                                              if k[1] == 0 and k[2] == 0}))
    for p in policies:
        evaluate(p, fp, evals)


if __name__ == '__main__':
    main()
