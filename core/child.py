"""One way to run work in a child process and end it: the training workers and every benchmark use it.

    parent                                      child (spawned: a clean process, no forked TensorFlow)
    Child(target, *args, flags=("stop",))       target(inbox, outbox, *flags, *args)
      child.send(x)        -- inbox pipe -->      inbox.recv()
      child.poll(s), recv() <-- outbox pipe --    outbox.send(event)
      child.flags["stop"].set()  -- mp.Event -->  stop.is_set()
      child.end()                                 terminated, then killed if it will not go

The child's outbox end lives only in the child, so once the child is gone `recv()` raises EOFError: a
parent never waits on a process that died. A spawned child re-imports its parent's main script: a script
that starts children needs the usual `if __name__ == "__main__":` guard.
"""

import multiprocessing
import signal

END_GRACE_S = 2.0  # after terminate (SIGTERM), how long before kill (SIGKILL)


class Child:
    """A spawned process with a pipe each way and named events, that the parent can end at once."""

    def __init__(self, target, *args, flags: tuple[str, ...] = (), name: str = "rnn-explorer-child"):
        ctx = multiprocessing.get_context("spawn")
        self.flags = {flag: ctx.Event() for flag in flags}
        child_inbox, self.inbox = ctx.Pipe(duplex=False)  # (receiving end, sending end)
        self.outbox, child_outbox = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=target,
            args=(child_inbox, child_outbox, *self.flags.values(), *args),
            name=name,
            daemon=True,
        )
        self.process.start()
        # Only the child keeps these ends, so reading `outbox` ends with EOFError once the child is gone.
        child_inbox.close()
        child_outbox.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, message) -> None:
        """To the child's inbox; OSError/BrokenPipeError if it is gone."""
        self.inbox.send(message)

    def poll(self, timeout: float) -> bool:
        """True when recv() will not block: a message is waiting, or the child has gone (EOFError)."""
        return self.outbox.poll(timeout)

    def recv(self):
        """The child's next message; EOFError once it is gone and nothing is left."""
        return self.outbox.recv()

    def join(self, timeout: float | None = None) -> None:
        self.process.join(timeout)

    def end(self) -> None:
        """End the process now (a static graph build cannot be interrupted any other way)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(END_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(END_GRACE_S)

    def close(self) -> None:
        """Close the parent's pipe ends (the process itself is ended or joined separately)."""
        for conn in (self.inbox, self.outbox):
            conn.close()

    def exit_reason(self) -> str:
        """'killed by signal SIGKILL', 'exit code 1', ... for a finished process."""
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"
