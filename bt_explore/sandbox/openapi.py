"""placeholder replaced below"""


def build_openapi(base_url: str) -> dict:
    return {}
