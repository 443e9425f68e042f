//! Type names: `PROVIDER:TYPE`.

use std::fmt;
use std::str::FromStr;

/// A resource type as configurations write it: the provider's prefix and the provider's own
/// name for the type (`azure` and `Microsoft.Resources/resourceGroups@2025-04-01`; `k8s` and
/// `v1/ConfigMap`; `core` and `data`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeName {
    provider: String,
    ty: String,
}

/// Why a string is not a type name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeNameError(String);

impl fmt::Display for TypeNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TypeNameError {}

impl TypeName {
    /// A type name from its two parts.
    pub fn new(provider: impl Into<String>, ty: impl Into<String>) -> Self {
        TypeName {
            provider: provider.into(),
            ty: ty.into(),
        }
    }

    /// The provider's prefix: `azure`, `k8s`, `core`.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The type within the provider: `v1/ConfigMap`.
    pub fn ty(&self) -> &str {
        &self.ty
    }

    /// The two parts of a type name as written, borrowed (`("k8s", "v1/ConfigMap")`), or
    /// `None` when `s` is not one. The one place that knows where a type name splits.
    pub fn split(s: &str) -> Option<(&str, &str)> {
        let (provider, ty) = s.split_once(':')?;
        let well_formed = !provider.is_empty()
            && provider
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (well_formed && !ty.is_empty()).then_some((provider, ty))
    }

    /// The provider prefix of a type name as written (`core` for `core:data`); a string that
    /// is not a type name is its own provider.
    pub fn provider_of(s: &str) -> &str {
        TypeName::split(s).map_or(s, |(p, _)| p)
    }
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.ty)
    }
}

impl FromStr for TypeName {
    type Err = TypeNameError;

    fn from_str(s: &str) -> Result<Self, TypeNameError> {
        let (provider, ty) = TypeName::split(s).ok_or_else(|| {
            TypeNameError(format!(
                "`{s}` is not a type: expected PROVIDER:TYPE, e.g. core:data"
            ))
        })?;
        Ok(TypeName::new(provider, ty))
    }
}

crate::serde_as_text!(TypeName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon_only() {
        let t: TypeName = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
            .parse()
            .unwrap();
        assert_eq!(t.provider(), "azure");
        assert_eq!(t.ty(), "Microsoft.Resources/resourceGroups@2025-04-01");
        let k: TypeName = "k8s:keda.sh/v1alpha1/ScaledJob".parse().unwrap();
        assert_eq!(
            (k.provider(), k.ty()),
            ("k8s", "keda.sh/v1alpha1/ScaledJob")
        );
        assert_eq!(k.to_string(), "k8s:keda.sh/v1alpha1/ScaledJob");
        for bad in ["data", ":x", "core:", "a b:c"] {
            assert!(bad.parse::<TypeName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn serialises_as_its_text() {
        let t = TypeName::new("core", "data");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"core:data\"");
        let back: TypeName = serde_json::from_str("\"core:data\"").unwrap();
        assert_eq!(back, t);
    }
}
