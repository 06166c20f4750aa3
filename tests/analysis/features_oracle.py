#!/usr/bin/python3
"""Independent reference for calc/features.h, from scikit-image and scipy.

usage: features_oracle.py DIR ROW_SPACING_MM COLUMN_SPACING_MM

DIR holds labels.pgm (16-bit P5, 0 background, calcification i + 1), breast.pgm (8-bit
P5, nonzero = breast), intensity.f32 (float32 little endian, rows * columns) and
clusters.txt (one line per cluster: the member indices, 0-based). Prints one line per
feature: "calc I NAME VALUE" and "cluster K NAME VALUE".

Shape comes from skimage.measure.regionprops; first-order statistics follow
pyradiomics' formulas literally (binning by numpy.arange and numpy.digitize); distances
from scipy.ndimage.distance_transform_edt and scipy.spatial.distance; graph metrics by
breadth-first search written here (networkx is not available).
"""
import sys
from collections import deque

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull
from scipy.spatial.distance import cdist, pdist
from skimage.measure import regionprops

DENSITY_8_MM, DENSITY_32_MM, RING_MM = 0.8, 3.2, 2.5
SIZE_SMALL_MM2, SIZE_LARGE_MM2 = 0.1, 0.3
BIN_WIDTH = 25.0 / 4096.0
SLACK = 1e-9
SCALES = [("05", 0.5), ("1", 1.0), ("2", 2.0), ("4", 4.0)]
EDGES = {
    "density": ("calc_mean", 1.0 / 3.0, 2.0 / 3.0),
    "perimeter": ("perimeter_mm", 0.8, 1.6),
    "roundness": ("roundness", 0.7, 1.0),
    "mbr_long": ("mbr_long_mm", 0.3, 0.6),
    "rectangularity": ("rectangularity", 0.7, 0.85),
    "length_ratio": ("length_ratio", 1.5, 2.5),
}
FIRST_ORDER = ["mean", "std", "skewness", "kurtosis", "min", "max", "p10", "p90", "entropy"]


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    width, height, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    dtype = ">u2" if maxval > 255 else "u1"
    return np.frombuffer(data[pos:], dtype=dtype, count=width * height).reshape(height, width)


def first_order(values):
    """pyradiomics firstorder: Mean, StandardDeviation, Skewness, Kurtosis, Minimum,
    Maximum, 10Percentile, 90Percentile, Entropy (binWidth discretisation)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return [0.0] * len(FIRST_ORDER)
    mean = x.mean()
    m2 = np.mean((x - mean) ** 2)
    m3 = np.mean((x - mean) ** 3)
    m4 = np.mean((x - mean) ** 4)
    skew = m3 / m2 ** 1.5 if m2 != 0 else 0.0
    kurt = m4 / m2 ** 2 if m2 != 0 else 0.0
    binned = np.clip(x, 0.0, 1.0)
    low = binned.min() - binned.min() % BIN_WIDTH
    high = binned.max() + 2 * BIN_WIDTH
    edges = np.arange(low, high, BIN_WIDTH)
    discrete = np.digitize(binned, edges)
    _, counts = np.unique(discrete, return_counts=True)
    p = counts / x.size
    entropy = -np.sum(p * np.log2(p + np.spacing(1)))
    return [mean, np.sqrt(m2), skew, kurt, x.min(), x.max(),
            np.percentile(x, 10), np.percentile(x, 90), entropy]


def corners_mm(coords, sp):
    """Corners of every pixel (row, col) as unit squares, as (x, y) in mm."""
    r, c = coords[:, 0].astype(float), coords[:, 1].astype(float)
    pts = []
    for dr in (0, 1):
        for dc in (0, 1):
            pts.append(np.stack([(c + dc) * sp[1], (r + dr) * sp[0]], axis=1))
    return np.unique(np.concatenate(pts), axis=0)


def min_rectangle(pts):
    hull = ConvexHull(pts)
    v = pts[hull.vertices]
    best = None
    for i in range(len(v)):
        e = v[(i + 1) % len(v)] - v[i]
        u = e / np.hypot(*e)
        n = np.array([-u[1], u[0]])
        a, b = v @ u, v @ n
        w, h = a.max() - a.min(), b.max() - b.min()
        if best is None or w * h < best[0]:
            best = (w * h, max(w, h), min(w, h))
    return best


def rings(labels, breast, intensity, obj, sp):
    d = ndimage.distance_transform_edt(~obj, sampling=sp)
    d2 = d * d
    tissue = (labels == 0) & (breast != 0)
    out = {}
    for name, radius in (("8", DENSITY_8_MM), ("25", RING_MM), ("32", DENSITY_32_MM)):
        out[name] = intensity[tissue & (d2 > 0) & (d2 <= radius * radius * (1 + SLACK))]
    return out


def graph_metrics(adj):
    n = adj.shape[0]
    nbrs = [np.flatnonzero(adj[i]) for i in range(n)]
    ecc, comp, components, giant = [], [-1] * n, 0, 0
    for s in range(n):
        dist = {s: 0}
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for w in nbrs[u]:
                if w not in dist:
                    dist[w] = dist[u] + 1
                    queue.append(w)
        ecc.append(max(dist.values()))
        if comp[s] < 0:
            for u in dist:
                comp[u] = components
            components += 1
            giant = max(giant, len(dist))
    deg = adj.sum(axis=1)
    clustering = []
    for i in range(n):
        k = deg[i]
        if k < 2:
            clustering.append(0.0)
            continue
        sub = adj[np.ix_(nbrs[i], nbrs[i])]
        clustering.append(sub.sum() / (k * (k - 1)))
    return {"subgraphs": components, "mean_degree": deg.mean(), "max_degree": deg.max(),
            "mean_eccentricity": np.mean(ecc), "diameter": max(ecc),
            "mean_clustering": np.mean(clustering), "giant_ratio": giant / n,
            "isolated_fraction": np.mean(deg == 0)}


def main():
    folder, sp = sys.argv[1], (float(sys.argv[2]), float(sys.argv[3]))
    labels = read_pgm(folder + "/labels.pgm").astype(np.int64)
    breast = read_pgm(folder + "/breast.pgm")
    intensity = np.fromfile(folder + "/intensity.f32", dtype="<f4").reshape(labels.shape)
    with open(folder + "/clusters.txt") as f:
        clusters = [[int(t) for t in line.split()] for line in f if line.strip()]
    g = np.sqrt(sp[0] * sp[1])
    calc = {}
    regions = {p.label: p for p in regionprops(labels)}
    for label in sorted(regions):
        p, f = regions[label], {}
        f["area_mm2"] = p.area * sp[0] * sp[1]
        f["perimeter_mm"] = p.perimeter * g
        f["major_axis_mm"] = p.axis_major_length * g
        f["minor_axis_mm"] = p.axis_minor_length * g
        f["eccentricity"] = p.eccentricity
        f["solidity"] = p.solidity
        f["extent"] = p.extent
        f["roundness"] = 4 * np.pi * p.area / p.perimeter ** 2 if p.perimeter > 0 else 0.0
        rect_area, long_mm, short_mm = min_rectangle(corners_mm(p.coords, sp))
        f["mbr_long_mm"], f["mbr_short_mm"] = long_mm, short_mm
        f["rectangularity"] = f["area_mm2"] / rect_area
        f["length_ratio"] = long_mm / short_mm
        obj = labels == label
        ring = rings(labels, breast, intensity, obj, sp)
        f["density_8"] = ring["8"].astype(np.float64).mean() if ring["8"].size else 0.0
        for name, v in zip(FIRST_ORDER, first_order(intensity[obj])):
            f["calc_" + name] = v
        for name, v in zip(FIRST_ORDER, first_order(ring["25"])):
            f["ring_" + name] = v
        f["centroid_mm"] = (p.centroid[1] * sp[1], p.centroid[0] * sp[0])
        f["coords_mm"] = p.coords[:, ::-1] * np.array([sp[1], sp[0]])
        f["corners_mm"] = corners_mm(p.coords, sp)
        calc[label - 1] = f
        for name, v in f.items():
            if name not in ("centroid_mm", "coords_mm", "corners_mm"):
                print("calc", label - 1, name, repr(float(v)))

    cluster_rows = []
    for members in clusters:
        f = {}
        m = [calc[i] for i in members]
        n = len(m)
        f["calc_num"] = n
        f["density"] = np.mean([c["calc_mean"] for c in m])
        obj = np.isin(labels, [i + 1 for i in members])
        ring = rings(labels, breast, intensity, obj, sp)
        f["density_8"] = ring["8"].astype(np.float64).mean() if ring["8"].size else 0.0
        f["density_32"] = ring["32"].astype(np.float64).mean() if ring["32"].size else 0.0
        areas = np.array([c["area_mm2"] for c in m])
        f["size_lt10"] = np.sum(areas < SIZE_SMALL_MM2 * (1 - SLACK))
        f["size_gt30"] = np.sum(areas > SIZE_LARGE_MM2 * (1 + SLACK))
        f["size_10_30"] = n - f["size_lt10"] - f["size_gt30"]
        f["calc_area_mm2"] = areas.sum()
        f["hull_area_mm2"] = ConvexHull(np.concatenate([c["corners_mm"] for c in m])).volume
        for name, (key, e1, e2) in EDGES.items():
            v = np.array([c[key] for c in m])
            e1, e2 = e1 * (1 - SLACK), e2 * (1 - SLACK)
            f[name + "_low"] = np.sum(v < e1)
            f[name + "_medium"] = np.sum((v >= e1) & (v < e2))
            f[name + "_high"] = np.sum(v >= e2)
        for key in ("area_mm2", "perimeter_mm", "major_axis_mm", "minor_axis_mm",
                    "eccentricity", "solidity", "extent"):
            v = np.array([c[key] for c in m])
            f[key + "_mean"], f[key + "_std"], f[key + "_max"] = v.mean(), v.std(), v.max()
        xy = np.array([c["centroid_mm"] for c in m])
        spread = 1e-9 * np.abs(xy).max()
        flat = spread * spread * n
        sxx = np.sum((xy[:, 0] - xy[:, 0].mean()) ** 2)
        syy = np.sum((xy[:, 1] - xy[:, 1].mean()) ** 2)
        f["centroid_xy_correlation"] = (np.corrcoef(xy[:, 0], xy[:, 1])[0, 1]
                                        if n >= 2 and sxx > flat and syy > flat else 0.0)
        f["mean_pairwise_distance_mm"] = pdist(xy).mean() if n >= 2 else 0.0
        for name, v in zip(FIRST_ORDER, first_order(intensity[obj])):
            f["calc_" + name] = v
        for name, v in zip(FIRST_ORDER, first_order(ring["25"])):
            f["ring_" + name] = v
        d2 = np.full((n, n), np.inf)
        for i in range(n):
            for j in range(i + 1, n):
                d2[i, j] = d2[j, i] = cdist(m[i]["coords_mm"], m[j]["coords_mm"],
                                            "sqeuclidean").min()
        for tag, s in SCALES:
            adj = (d2 <= (2 * s) ** 2 * (1 + SLACK)).astype(np.int64)
            for name, v in graph_metrics(adj).items():
                f["topo_%smm_%s" % (tag, name)] = v
        cluster_rows.append(f)

    if cluster_rows:
        best = max(range(len(cluster_rows)),
                   key=lambda k: (cluster_rows[k]["calc_num"],
                                  cluster_rows[k]["hull_area_mm2"], -k))
        for f in cluster_rows:
            f["image_cluster_count"] = len(cluster_rows)
            f["image_largest_calc_num"] = cluster_rows[best]["calc_num"]
            f["image_largest_area_mm2"] = cluster_rows[best]["hull_area_mm2"]
    for k, f in enumerate(cluster_rows):
        for name, v in f.items():
            print("cluster", k, name, repr(float(v)))


if __name__ == "__main__":
    main()
