from dataclasses import replace

from .contract import NetworkContractTests


class TestThreadsContract(NetworkContractTests):
    network = "threads"
    base_path = "/v1.0"
    has_quota = True
    first_write_operation = "media"

    def make_connection(self, sandbox, account):
        connection = super().make_connection(sandbox, account)
        # Containers are polled every 50 ms instead of Meta's 30 s advice.
        return replace(connection, settings={"container_poll_seconds": "0.05"})
