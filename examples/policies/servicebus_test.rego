package plinth.servicebus_test

import rego.v1

import data.plinth.servicebus

ns(properties) := {"resource_changes": [{
	"address": "sb",
	"type": "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
	"after": {"properties": properties},
}]}

test_local_auth_disabled_and_tls_default_pass if {
	count(servicebus.deny) == 0 with input as ns({"disableLocalAuth": true})
}

test_local_auth_on_is_denied if {
	results := servicebus.deny with input as ns({"disableLocalAuth": false})
	some d in results
	d.address == "sb"
	contains(d.msg, "local (SAS key) authentication")
}

test_local_auth_absent_is_denied if {
	count(servicebus.deny) == 1 with input as ns({})
}

test_tls_1_0_is_denied if {
	results := servicebus.deny with input as ns({"disableLocalAuth": true, "minimumTlsVersion": "1.0"})
	some d in results
	contains(d.msg, "TLS 1.0")
}

test_tls_1_2_passes if {
	count(servicebus.deny) == 0 with input as ns({"disableLocalAuth": true, "minimumTlsVersion": "1.2"})
}

test_deleted_namespace_is_not_checked if {
	count(servicebus.deny) == 0 with input as {"resource_changes": [{
		"address": "sb",
		"type": "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
		"after": null,
	}]}
}

test_queues_are_not_namespaces if {
	count(servicebus.deny) == 0 with input as {"resource_changes": [{
		"address": "queue",
		"type": "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01",
		"after": {"properties": {}},
	}]}
}
