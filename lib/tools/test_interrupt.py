#!/usr/bin/env python3
"""The notebook's stop button, tested through the lesson8-java kernel.

    test_interrupt.py

Starts a long training loop and a long sampling loop in a cell, sends an interrupt request (what the stop
button does) after a few seconds, and checks that the cell ends at once, that the loop itself stops (JJava
answers the cell before the loop has noticed: a loop that ignores the interrupt runs on beside the next
cells), that the next cell runs at once and that training still works and reports the stop. Prints one
line per check, then "interrupt: N passed, N failed"; exits 1 on failure.
"""
import sys
import time

from jupyter_client.manager import start_new_kernel

KERNEL = "lesson8-java"

SETUP = """
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import org.lesson8.diffusion.*;
import org.lesson8.nn.*;
import org.lesson8.train.*;
class Tiny extends org.lesson8.nn.Module {
    final Linear lin;
    Tiny(NDManager m) { super(m); lin = child("lin", new Linear(m, new java.util.Random(0), 3, 1)); }
}
NDManager m = NDManager.newBaseManager();
TrainLoop newLoop(Tiny model, int steps) { return new TrainLoop(model, new Optim(model, 1e-3f, 0f, 0, steps, 0f), new MetricsLog()); }
TrainLoop.Objective objective(Tiny model) { return (sub, step, metrics) -> model.lin.forward(sub.ones(new Shape(8, 3))).square().mean(); }
var model = new Tiny(m);
var loop = newLoop(model, 1_000_000);
loop.run(2, objective(model), null);
"""
TRAIN = "loop.run(1_000_000, objective(model), null);"
TRAINING_STOPPED = """
Thread.sleep(500); int a = loop.step(); Thread.sleep(1000); int b = loop.step();
System.out.println(a + " " + b + " " + loop.log().size());
"""
TRAIN_AGAIN = """
var fresh = new Tiny(m);
var again = newLoop(fresh, 20);
again.run(20, objective(fresh), null);
System.out.println("logged " + again.log().size());
"""
SAMPLE_SETUP = """
var diffusion = GaussianDiffusion.linear(200_000, GaussianDiffusion.Variance.FIXED_SMALL);
int[] calls = {0};
"""
SAMPLE = "Samplers.ddim(diffusion, (xt, t, c) -> { calls[0]++; return xt.zerosLike(); }, m.zeros(new Shape(1, 1, 4, 4)), null, 0, null, false, null);"
SAMPLING_STOPPED = "Thread.sleep(500); int c1 = calls[0]; Thread.sleep(1000); System.out.println(c1 + \" \" + calls[0]);"


class Kernel:
    def __init__(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL)

    def run(self, code, timeout=120):
        """Runs a cell; returns (seconds, status, printed text)."""
        text = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                text.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                text.append(msg["content"]["ename"] + ": " + msg["content"]["evalue"])

        t0 = time.perf_counter()
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        return time.perf_counter() - t0, reply["content"]["status"], "".join(text)

    def interrupt_after(self, code, seconds, timeout=60):
        """Starts a cell, interrupts it after `seconds`; returns (seconds from interrupt to reply, status)."""
        msg_id = self.kc.execute(code)
        time.sleep(seconds)
        t0 = time.perf_counter()
        self.km.interrupt_kernel()
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                # an interrupted cell ends with the kernel's interruption error, not with an error of its own code
                c = reply["content"]
                interrupted = c["status"] == "error" and "nterrupt" in c.get("ename", "") + c.get("evalue", "")
                return time.perf_counter() - t0, "interrupted" if interrupted else c["status"] + " " + c.get("ename", "")

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def main():
    results = []

    def check(name, ok, detail):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)

    t_start = time.perf_counter()
    k = Kernel()
    try:
        secs, status, out = k.run(SETUP)
        if status != "ok":
            check("setup", False, out)
            return 1

        secs, status = k.interrupt_after(TRAIN, 3)
        check("interrupted training cell ends", status == "interrupted" and secs < 2, f"{status} {secs:.2f} s after the interrupt")
        secs, status, out = k.run("1 + 1")
        check("next cell runs at once", status == "ok" and secs < 2, f"{secs:.2f} s")
        secs, status, out = k.run(TRAINING_STOPPED)
        a, b, logged = (int(v) for v in out.split()) if status == "ok" else (-1, -2, -3)
        check("training loop stopped", status == "ok" and a == b == logged > 0,
              f"step {a} 0.5 s after the interrupt, {b} 1 s later, log {logged} rows")
        secs, status, out = k.run(TRAIN_AGAIN)
        report = f"(interrupted earlier) training was interrupted after step {a - 2} of 1000000; the log keeps its {a} steps"
        check("training works again and reports the stop", status == "ok" and report in out and "logged 20" in out,
              out.strip().replace("\n", " | "))

        k.run(SAMPLE_SETUP)
        secs, status = k.interrupt_after(SAMPLE, 2)
        check("interrupted sampling cell ends", status == "interrupted" and secs < 2, f"{status} {secs:.2f} s after the interrupt")
        secs, status, out = k.run(SAMPLING_STOPPED)
        c1, c2 = (int(v) for v in out.split()) if status == "ok" else (-1, -2)
        check("sampling loop stopped", status == "ok" and c1 == c2 > 0,
              f"{c1} denoiser calls 0.5 s after the interrupt, {c2} 1 s later")
    finally:
        k.close()
    failed = results.count(False)
    print(f"{time.perf_counter() - t_start:.0f} s in all")
    print(f"interrupt: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
