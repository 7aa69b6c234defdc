from .contract import NetworkContractTests


class TestFacebookContract(NetworkContractTests):
    network = "facebook"
    base_path = "/v25.0"
