# Service Bus namespaces: no shared access keys (local auth), TLS 1.2 or later.
#
# Input: plinth's plan JSON (docs/plan-json.md). `after` is the object as it will be after
# apply: the configuration over what Azure reports, so a value changed outside plinth (a TLS
# downgrade in the portal) is seen here even when the configuration does not set it.
package plinth.servicebus

import rego.v1

# Namespaces that exist after apply (creates, updates, replacements and no-ops).
namespaces contains c if {
	some c in input.resource_changes
	lower(split(c.type, "@")[0]) == "azure:microsoft.servicebus/namespaces"
	c.after != null
}

# Local (SAS key) authentication must be off: every client authenticates with Entra ID, so a
# leaked connection string is worth nothing. Absent means on (ARM's default is false).
deny contains {
	"msg": sprintf("Service Bus namespace %s allows local (SAS key) authentication", [c.address]),
	"address": c.address,
	"fix": "set properties.disableLocalAuth = true in its body; clients use their workload identity",
} if {
	some c in namespaces
	not c.after.properties.disableLocalAuth == true
}

# TLS 1.2 or later. Absent is accepted: ARM fills in the service default, "1.2", for a
# namespace created without it (the simulator does the same), and a namespace whose live value
# is older shows it here, since `after` carries what Azure reports. Set it explicitly to be
# independent of the default.
allowed_tls := {"1.2", "1.3"}

deny contains {
	"msg": sprintf("Service Bus namespace %s accepts TLS %s; the minimum is 1.2", [c.address, tls]),
	"address": c.address,
	"fix": "set properties.minimumTlsVersion = \"1.2\" in its body",
} if {
	some c in namespaces
	tls := c.after.properties.minimumTlsVersion
	tls != null
	not allowed_tls[tls]
}
