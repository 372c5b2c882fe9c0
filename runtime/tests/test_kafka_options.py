"""Every Kafka client of a service (producer, consumer, admin) gets the same
security options from the settings: SASL/SCRAM over TLS on Apache Kafka."""

from __future__ import annotations

import ssl

import pytest

from brobygger_runtime.kafka_options import faststream_security, kafka_client_options
from brobygger_runtime.settings import ServiceSettings


def test_sasl_ssl_with_scram_gives_each_client_its_principal_and_a_verifying_tls_context() -> None:
    settings = ServiceSettings(service_name="journey", kafka_security_protocol="SASL_SSL",
                               kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="journey.varde-kommune",
                               kafka_sasl_password="secret")
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "journey.varde-kommune" and options["sasl_plain_password"] == "secret"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert faststream_security(settings) is not None


def test_plaintext_for_the_embedded_broker_has_no_credentials() -> None:
    assert kafka_client_options(ServiceSettings(service_name="journey")) == {"security_protocol": "PLAINTEXT"}


def test_an_unknown_mechanism_is_refused() -> None:
    settings = ServiceSettings(service_name="journey", kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="MD5")
    with pytest.raises(ValueError, match="not supported"):
        faststream_security(settings)
