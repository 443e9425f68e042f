package plinth.aks_test

import rego.v1

import data.plinth.aks

cluster(properties) := {"resource_changes": [{
	"address": "aks",
	"type": "azure:Microsoft.ContainerService/managedClusters@2025-10-01",
	"after": {"properties": properties},
}]}

good := {
	"oidcIssuerProfile": {"enabled": true, "issuerURL": null},
	"securityProfile": {"workloadIdentity": {"enabled": true}},
}

test_oidc_and_workload_identity_pass if {
	count(aks.deny) == 0 with input as cluster(good)
}

test_oidc_off_is_denied if {
	props := object.union(good, {"oidcIssuerProfile": {"enabled": false}})
	results := aks.deny with input as cluster(props)
	some d in results
	d.address == "aks"
	contains(d.msg, "OIDC issuer")
}

test_workload_identity_absent_is_denied if {
	results := aks.deny with input as cluster({"oidcIssuerProfile": {"enabled": true}})
	some d in results
	contains(d.msg, "workload identity")
}

test_both_missing_gives_two_denials if {
	count(aks.deny) == 2 with input as cluster({})
}
