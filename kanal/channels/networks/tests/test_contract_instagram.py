from dataclasses import replace

from .contract import NetworkContractTests


class TestInstagramContract(NetworkContractTests):
    network = "instagram"
    base_path = "/v25.0"
    has_quota = True
    first_write_operation = "media"

    def make_connection(self, sandbox, account):
        connection = super().make_connection(sandbox, account)
        # Containers are polled every 50 ms instead of Meta's once a minute.
        return replace(connection, settings={"container_poll_seconds": "0.05"})
