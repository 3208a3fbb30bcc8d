"""What every OpenVINO variant script reports: token cosines to fp32, a batch's time, one sentence's latency."""
import statistics
import time

import numpy as np


def measure(compiled, ref: np.ndarray, arr: np.ndarray, mask: np.ndarray, one: np.ndarray, reps: int = 40) -> str:
    r = compiled.create_infer_request()
    got = np.asarray(r.infer({"input_ids": arr, "attention_mask": mask})[0])
    sel = mask.astype(bool)
    a, b = ref[sel], got[sel]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    times = []
    for _ in range(3):
        t = time.perf_counter(); r.infer({"input_ids": arr, "attention_mask": mask}); times.append(time.perf_counter() - t)
    feed = {"input_ids": one, "attention_mask": np.ones_like(one)}
    for _ in range(3):
        r.infer(feed)
    lt = []
    for _ in range(reps):
        t = time.perf_counter(); r.infer(feed); lt.append(time.perf_counter() - t)
    return ('token cos min %.4f p1 %.4f mean %.5f' % (cos.min(), np.percentile(cos, 1), cos.mean())
            + ' batch %s %.3f s' % (arr.shape, statistics.median(times))
            + ' one %s %.2f ms' % (one.shape, 1000 * statistics.median(lt)))
