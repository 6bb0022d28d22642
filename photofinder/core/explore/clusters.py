"""Explore's clustering, steps 1 and 2 of groups.py: fine clusters of alike photos (the IVF index's own lists,
or k-means over the vectors), merged into tens of groups, each with a few sub-groups. Numbers in, labels out:
nothing here names or stores a group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np

from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library
from photofinder.core.store.vector_index import VectorIndex

MAX_GROUPS = 30  # top-level groups: a screenful to scan
MAX_SUBGROUPS = 8
PHOTOS_PER_GROUP = 5  # a small library gets at most one group per this many photos
SUBGROUPS_FROM = 20  # a group of fewer photos is not divided
SAME = 0.95  # two clusters whose mean vectors are this alike (cosine) are one subject
FINE_MAX = 256  # k-means clusters for a library without an IVF index
KMEANS_SAMPLE = 100_000  # k-means trains on at most this many vectors (then every photo is assigned)


@dataclass
class Fine:
    """Fine clusters: their mean vectors, sizes, and which cluster each photo is in."""

    means: np.ndarray  # (k, dim), the mean of the member vectors (not normalised)
    sizes: np.ndarray  # (k,)
    ids: np.ndarray  # every photo id
    labels: np.ndarray  # its cluster


def fine_from_index(library: Library, catalog: Catalog) -> Fine | None:
    """The IVF index's inverted lists as fine clusters (None for a flat index)."""
    try:
        if VectorIndex.read_header(library.index_path)[4] == 0:  # flat: no clustering in it (header alone)
            return None
    except (OSError, ValueError):  # no file yet, or a damaged one: load_vectors rebuilds it
        pass
    index = library.load_vectors(catalog, save=False)
    ivf = index._index  # noqa: SLF001 - the index's own clustering, read in place
    if not isinstance(ivf, faiss.IndexIVF):
        return None
    nlist = ivf.nlist
    means = ivf.quantizer.reconstruct_n(0, nlist).astype(np.float32)
    inv = ivf.invlists
    ids, labels, sizes = [], [], np.zeros(nlist, np.int64)
    for i in range(nlist):
        size = inv.list_size(i)
        if size:
            ids.append(faiss.rev_swig_ptr(inv.get_ids(i), size).copy())
            labels.append(np.full(size, i, np.int32))
            sizes[i] = size
    del index, ivf
    if not ids:
        return None
    # A centroid is the mean of the vectors it was trained on: as a cluster's mean it is a little long (the
    # photos of a list agree more than the training vectors did); the merging only compares them.
    return Fine(means, sizes, np.concatenate(ids).astype(np.int64), np.concatenate(labels))


def fine_kmeans(catalog: Catalog, cancelled: Callable[[], bool]) -> Fine:
    """k-means over (a sample of) the vectors, then every photo assigned to its nearest cluster."""
    n = catalog.count()
    sample = catalog.sample_embeddings(min(n, KMEANS_SAMPLE))
    k = int(min(FINE_MAX, max(1, len(sample) // 3)))
    km = faiss.Kmeans(sample.shape[1], k, niter=20, seed=1234, spherical=False, verbose=False)
    km.cp.min_points_per_centroid = 1
    km.train(np.ascontiguousarray(sample, np.float32))
    centroids = km.centroids.astype(np.float32)
    ids, labels = [], []
    sums = np.zeros_like(centroids)
    sizes = np.zeros(k, np.int64)
    for chunk_ids, vectors in catalog.iter_embeddings():
        if cancelled():
            break
        label = np.argmax(vectors @ centroids.T, axis=1).astype(np.int32)
        np.add.at(sums, label, vectors)
        sizes += np.bincount(label, minlength=k)
        ids.append(chunk_ids)
        labels.append(label)
    keep = sizes > 0
    remap = np.cumsum(keep) - 1
    means = sums[keep] / sizes[keep, None]
    return Fine(
        means.astype(np.float32),
        sizes[keep],
        np.concatenate(ids) if ids else np.empty(0, np.int64),
        remap[np.concatenate(labels)].astype(np.int32) if labels else np.empty(0, np.int32),
    )


def merge(means: np.ndarray, sizes: np.ndarray, photos: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-level group, sub-group) of each fine cluster, as small integers (sub-groups numbered across groups).

    Three rounds of the same merging: fine clusters into sub-groups, sub-groups into at most `target` groups,
    then each group's sub-groups down to MAX_SUBGROUPS.
    """
    target = int(min(MAX_GROUPS, max(1, photos // PHOTOS_PER_GROUP)))
    sums = means.astype(np.float64) * sizes[:, None]
    weight = sizes.astype(np.float64)
    small = max(3.0, 0.002 * photos)
    sub = agglomerate(sums, weight, MAX_SUBGROUPS * target, small)
    sub_sums, sub_weight = pool(sums, weight, sub)
    top_of_sub = agglomerate(sub_sums, sub_weight, target, small)
    final_sub = np.empty(len(sub_weight), np.int64)
    next_label = 0
    for t in np.unique(top_of_sub):
        inside = np.flatnonzero(top_of_sub == t)
        size = float(sub_weight[inside].sum())
        # a group too small to be worth dividing is one sub-group; a sub-group has a few photos at least
        limit = MAX_SUBGROUPS if size >= SUBGROUPS_FROM else 1
        within = agglomerate(sub_sums[inside], sub_weight[inside], limit, max(3.0, 0.02 * size))
        final_sub[inside] = within + next_label
        next_label += int(within.max()) + 1
    return top_of_sub[sub], final_sub[sub]


def pool(sums: np.ndarray, weight: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = int(label.max()) + 1
    out_sums = np.zeros((k, sums.shape[1]))
    np.add.at(out_sums, label, sums)
    return out_sums, np.bincount(label, weights=weight, minlength=k)


def agglomerate(sums: np.ndarray, weight: np.ndarray, limit: int, small: float) -> np.ndarray:
    """Merge clusters: the two most alike while there are more than `limit`; then any two whose mean vectors
    point the same way (cosine >= SAME: one subject, split by chance); then each smaller than `small` into its
    nearest. Each input's final cluster (0, 1, ...).

    Average linkage: the dot product of two clusters' mean vectors is the mean similarity of a photo of one
    with a photo of the other (and a mean's squared length that of two photos of the same cluster). Comparing
    directions rather than that ratio to the looser cluster's own: a loose cluster looked like everything, and
    a library of diffuse photos (bench/scale.py's) ended as one group.
    """
    m = len(weight)
    sums, weight = sums.astype(np.float64).copy(), weight.astype(np.float64).copy()
    alive = np.ones(m, bool)
    owner = np.arange(m)
    means = sums / np.maximum(weight, 1e-9)[:, None]
    s = means @ means.T
    own = np.maximum(np.diag(s).copy(), 1e-6)  # how alike a cluster's own photos are
    np.fill_diagonal(s, -np.inf)
    live = m
    while live > 1:
        if live > limit:
            a, b = divmod(int(np.argmax(s)), m)
        else:
            ratio = s / np.sqrt(np.outer(own, own))  # the cosine of the two clusters' mean vectors
            a, b = divmod(int(np.argmax(ratio)), m)
            if ratio[a, b] < SAME:
                tiny = np.flatnonzero(alive & (weight < small))
                if not len(tiny):
                    break
                a = int(tiny[np.argmin(weight[tiny])])
                b = int(np.argmax(s[a]))
        if not np.isfinite(s[a, b]):
            break
        a, b = min(a, b), max(a, b)
        sums[a] += sums[b]
        weight[a] += weight[b]
        alive[b] = False
        owner[owner == b] = a
        live -= 1
        mean = sums[a] / weight[a]
        row = (sums / np.maximum(weight, 1e-9)[:, None]) @ mean
        own[a] = max(float(mean @ mean), 1e-6)
        row[~alive] = -np.inf
        row[a] = -np.inf
        s[a, :] = row
        s[:, a] = row
        s[b, :] = -np.inf
        s[:, b] = -np.inf
    return np.unique(owner, return_inverse=True)[1]
