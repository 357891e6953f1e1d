"""An SMS backend for the benchmarks and the soak: every text is appended to the
file named by BENCH_SMS_OUTBOX, where the load reads each visitor's code as a
resident reads the phone. Production settings accept it as a real backend."""

import os
import re
import threading

CODE = re.compile(r"验证码 (\d{6})")
_lock = threading.Lock()


class FileBackend:
    def send(self, mobile, text):
        with _lock, open(os.environ["BENCH_SMS_OUTBOX"], "a", encoding="utf-8") as outbox:
            outbox.write(f"{mobile}\t{text}\n")


def latest_code(path, mobile):
    """The code in the last text to `mobile`, or None."""
    codes = [
        found.group(1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{mobile}\t") and (found := CODE.search(line))
    ]
    return codes[-1] if codes else None
