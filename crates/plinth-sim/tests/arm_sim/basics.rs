//! Authentication and request basics: api-version, tokens, the Entra endpoint.

use super::*;

#[tokio::test]
async fn arm_requires_api_version_and_a_valid_token() {
    let s = sim().await;
    let r = s.get(&rg_id("rg1")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "MissingApiVersionParameter");
    assert!(r.json()["error"]["message"].is_string());

    let r = raw(s.h.addr, "GET", &rg_path("rg1"), &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AuthenticationFailed");
    let r = raw(
        s.h.addr,
        "GET",
        &rg_path("rg1"),
        &[("authorization", "Bearer nonsense.token.here")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "InvalidAuthenticationToken");
}

#[tokio::test]
async fn entra_token_endpoint_and_discovery() {
    let s = sim().await;
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ.c2ln";
    let body = format!(
        "grant_type=client_credentials&client_id=abc&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
    );
    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    assert_eq!(t["ext_expires_in"], 3599);
    let token = t["access_token"].as_str().unwrap();
    let ok = raw(
        s.h.addr,
        "GET",
        &rg_path("none"),
        &[("authorization", &format!("Bearer {token}"))],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        ok.status, 404,
        "a workload identity token is accepted by ARM"
    );

    // For a managed identity's client id, the assertion must match a federated credential.
    s.rg("rg").await;
    let uai = s
        .put(&uai_path("rg", "wi"), json!({"location": "eastus"}))
        .await
        .json();
    let client_id = uai["properties"]["clientId"].as_str().unwrap().to_string();
    let fic = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wi/federatedIdentityCredentials/f?api-version=2024-11-30",
        rg_id("rg")
    );
    let r = s
        .put(
            &fic,
            json!({"properties": {"issuer": "https://issuer.example/", "subject": "system:serviceaccount:ns:sa", "audiences": ["api://AzureADTokenExchange"]}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exchange = |sub: &str| {
        let jwt = format!(
            "{}.{}.c2ln",
            b64(json!({"alg": "RS256"})),
            b64(
                json!({"iss": "https://issuer.example/", "sub": sub, "aud": ["api://AzureADTokenExchange"]})
            )
        );
        format!(
            "grant_type=client_credentials&client_id={client_id}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={jwt}"
        )
    };
    let path = format!("/{TENANT}/oauth2/v2.0/token");
    let r = raw(
        s.h.addr,
        "POST",
        &path,
        &[],
        exchange("system:serviceaccount:ns:sa").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = raw(
        s.h.addr,
        "POST",
        &path,
        &[],
        exchange("system:serviceaccount:ns:other").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS70021")
    );

    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        b"client_id=x",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS900144")
    );
    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        b"grant_type=client_credentials&client_id=x",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");

    let r = raw(
        s.h.addr,
        "GET",
        &format!("/{TENANT}/v2.0/.well-known/openid-configuration"),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", s.h.url)
    );
}
