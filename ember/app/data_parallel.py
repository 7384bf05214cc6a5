"""``ember train ... --nproc N``: the same training recipe on N processes, each on 1/N of every batch.

The command re-runs itself under Open MPI's launcher (``launch``): N copies of ``ember train`` with the
same flags (``mpirun -n N ember train ...`` does the same by hand). In each copy, ``start`` joins the
process group, and the recipe then differs from one process in five places only:

- the training loader takes this rank's share of the data (``DistributedSampler``, reshuffled each epoch)
  in minibatches of ``--batch-size / N``, so that the global batch, the steps per epoch and the learning-rate
  schedule are those of one process;
- the model is wrapped in ``DistributedDataParallel`` (gradients averaged over the ranks; with
  ``--sync-bn`` its BatchNorm layers become ``SyncBatchNorm``), and the Trainer sums its metrics over ranks;
- validation and test sets are split into N contiguous parts, one per rank, and the metrics summed, so the
  accuracy is exactly the one-process accuracy of the same weights;
- only rank 0 writes: checkpoints (of the unwrapped model, so a run resumes at any N), logs, plots;
- a failure on any rank stops every rank (``mpi.abort_job``) rather than leaving the others waiting.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from .. import distributed as dist
from ..distributed import mpi
from ..distributed.launch import mpirun_command
from ..utils.data import DistributedSampler, Subset
from .usage import UsageError


def start():
    """(rank, world size): joins the process group when an MPI launcher started several processes."""
    if not dist.is_initialized() and mpi.launched_by_mpi():
        dist.init_process_group("mpi")
        if dist.get_world_size() > 1:
            signal.signal(signal.SIGUSR1, _interrupt)  # Ctrl-C, forwarded by launch() through mpirun
    if not dist.is_initialized():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupted():
    """After Ctrl-C reached a rank: True where the interruption is to be reported (one process alone). On
    several processes, rank 0 has written the run's record (RunDirectory.fit) and stops the job; the others
    wait for that rather than ending the job before the record is written."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return True
    if dist.get_rank() == 0:
        print("ember train: interrupted", file=sys.stderr)
        mpi.abort_job(130)
    time.sleep(60)  # rank 0 stops every process; if it cannot, stop after a minute
    mpi.abort_job(130)
    return False


def refuse(what, nproc):
    """For the recipes that train on one process only (char-lm: its batches are sequential streams)."""
    if (nproc or 1) > 1 or mpi.launched_size() > 1:
        raise UsageError(f"{what} trains on one process; --nproc (and mpirun) train the image models. "
                         "Drop --nproc")


def per_rank_batch(batch_size, world):
    if batch_size % world:
        raise UsageError(f"--batch-size {batch_size} is the global batch, split evenly over --nproc {world} "
                         f"processes: choose a multiple of {world}")
    return batch_size // world


def train_sampler(dataset, rank, world, seed):
    """This rank's share of the training set, a new permutation (torch's, seed + epoch) every epoch."""
    return DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed)


def shard(dataset, rank, world):
    """The ``rank``-th of ``world`` contiguous parts of ``dataset`` (sizes differ by at most one, no padding:
    summed over the ranks, every sample is counted once)."""
    n = len(dataset)
    return Subset(dataset, range(rank * n // world, (rank + 1) * n // world))


def wrap(model, sync_bn):
    from ..nn import SyncBatchNorm
    from ..nn.parallel import DistributedDataParallel

    if sync_bn:
        model = SyncBatchNorm.convert_sync_batchnorm(model)
    return DistributedDataParallel(model)


@contextlib.contextmanager
def rank_zero_first(world):
    """Rank 0 runs the block (a download, say) before the others start it."""
    if world > 1 and dist.get_rank() != 0:
        dist.barrier()
    yield
    if world > 1 and dist.get_rank() == 0:
        dist.barrier()


def fail(status):
    """Called after a rank printed its error: stop every rank of the job (nothing left to wait for)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        mpi.abort_job(status)


# ---- the launching process ------------------------------------------------------------------------------------


def launch(nproc, argv):
    """Run ``ember ARGV`` (without --nproc) on ``nproc`` processes; returns the exit status (2 on failure).

    The ranks' output passes through, except Open MPI's own multi-line reports about a job that was
    stopped: the rank that failed has already said why in one line (each distinct line is shown once)."""
    command = mpirun_command(nproc, [sys.executable, "-m", "ember.cli", *argv])
    # Its own session: Ctrl-C reaches this process only, which passes it on as SIGUSR1, the signal mpirun
    # forwards to every rank (on SIGINT mpirun would kill the ranks before rank 0 writes the run's record).
    process = subprocess.Popen(command, stderr=subprocess.PIPE, start_new_session=True)
    errors, interrupted = [], False
    while True:
        try:
            errors += _relay(process.stderr, sys.stderr)
            break
        except KeyboardInterrupt:
            if interrupted:  # a second Ctrl-C: stop at once
                process.terminate()
                break
            interrupted = True
            process.send_signal(signal.SIGUSR1)
    status = process.wait()
    if status == 0:
        return 0
    if interrupted:
        return 130
    if not errors:
        print(f"ember train: error: the {nproc}-process run stopped (mpirun exit status {status}); "
              "--debug shows each rank's traceback", file=sys.stderr)
    return 2


def _relay(source, sink):
    """Copy ``source`` (bytes) to ``sink`` as it comes, dropping Open MPI's dashed report blocks and repeated
    error lines; returns the error lines seen."""
    errors, in_report, pending = [], False, b""
    for chunk in iter(lambda: source.read1(65536), b""):
        pending += chunk
        *lines, pending = _split_keep(pending)
        for line in lines:
            text = line.decode(errors="replace").replace("\x00", "")  # Open MPI pads its reports with NULs
            if text.startswith("-" * 20):
                in_report = not in_report
                continue
            if in_report:
                continue
            if ": error: " in text:
                if text in errors:
                    continue
                errors.append(text)
            sink.write(text)
        sink.flush()
    if pending and not in_report:
        sink.write(pending.decode(errors="replace").replace("\x00", ""))
    return errors


def _split_keep(data):
    """Split after every newline or carriage return (progress bars redraw with \\r), keeping them."""
    parts, start = [], 0
    for i, byte in enumerate(data):
        if byte in (10, 13):
            parts.append(data[start : i + 1])
            start = i + 1
    parts.append(data[start:])
    return parts
