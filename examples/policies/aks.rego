# AKS clusters: the OIDC issuer and workload identity, which the KEDA scaler's and the
# workload's federated credentials rely on (without them pods get no token to exchange).
package plinth.aks

import rego.v1

clusters contains c if {
	some c in input.resource_changes
	lower(split(c.type, "@")[0]) == "azure:microsoft.containerservice/managedclusters"
	c.after != null
}

deny contains {
	"msg": sprintf("AKS cluster %s does not enable the OIDC issuer", [c.address]),
	"address": c.address,
	"fix": "set properties.oidcIssuerProfile.enabled = true in its body",
} if {
	some c in clusters
	not c.after.properties.oidcIssuerProfile.enabled == true
}

deny contains {
	"msg": sprintf("AKS cluster %s does not enable workload identity", [c.address]),
	"address": c.address,
	"fix": "set properties.securityProfile.workloadIdentity.enabled = true in its body",
} if {
	some c in clusters
	not c.after.properties.securityProfile.workloadIdentity.enabled == true
}
