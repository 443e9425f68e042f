//! Numbers, encodings, hashes and IP networks, with Terraform's documented examples (the
//! digests are the standard test vectors of "hello world").

use super::*;

fn j(v: serde_json::Value) -> Value {
    Value::from(v)
}

#[test]
fn number_functions() {
    assert_eq!(eval("${min(12, 54, 3)}"), Value::from(3));
    assert_eq!(eval("${max(12, 54, 3)}"), Value::from(54));
    assert_eq!(eval("${max(1, 2.5)}"), eval("${2.5}"));
    assert_eq!(eval("${sum([10, 13, 6, 276])}"), Value::from(305));
    assert_eq!(eval("${sum([1, 0.5])}"), eval("${1.5}"));
    assert_eq!(eval("${abs(23)}"), Value::from(23));
    assert_eq!(eval("${abs(-12.4)}"), eval("${12.4}"));
    assert_eq!(eval("${ceil(5)}"), Value::from(5));
    assert_eq!(eval("${ceil(5.1)}"), Value::from(6));
    assert_eq!(eval("${floor(4.9)}"), Value::from(4));
    assert_eq!(eval("${signum(-13)}"), Value::from(-1));
    assert_eq!(eval("${signum(0)}"), Value::from(0));
    assert_eq!(eval("${pow(3, 2)}"), Value::from(9));
    assert_eq!(eval("${pow(4, 0)}"), Value::from(1));
    assert_eq!(eval("${log(16, 2)}"), Value::from(4));
    assert_eq!(eval("${parseint(\"100\", 10)}"), Value::from(100));
    assert_eq!(eval("${parseint(\"FF\", 16)}"), Value::from(255));
    assert_eq!(eval("${parseint(\"-10\", 16)}"), Value::from(-16));
    assert_eq!(
        eval("${parseint(\"1011111011101111\", 2)}"),
        Value::from(48879)
    );
    assert_eq!(eval("${parseint(\"aA\", 62)}"), Value::from(10 * 62 + 36));
    let src = "${min(1, \"2\")}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "min() expects argument 2 to be a number, got a string"
    );
    assert_eq!(slice(src, &e.span), "\"2\"");
    let e = eval_err("${sum([])}");
    assert_eq!(e.message, "sum(): cannot sum an empty list");
    let e = eval_err("${log(0, 10)}");
    assert_eq!(e.message, "log(): the number must be greater than 0");
    let e = eval_err("${parseint(\"12\", 2)}");
    assert_eq!(
        e.message,
        "parseint(): the string is not a number in base 2"
    );
    let e = eval_err("${parseint(\"1\", 63)}");
    assert_eq!(e.message, "parseint(): the base must be from 2 to 62");
    let e = eval_err("${parseint(\"99999999999999999999\", 10)}");
    assert_eq!(e.message, "parseint(): the number is too large");
    let e = eval_err("${pow(10, 400)}");
    assert_eq!(e.message, "pow(): the result is not a finite number");
}

#[test]
fn json_and_yaml() {
    assert_eq!(
        eval("${jsondecode(\"{\\\"hello\\\": \\\"world\\\"}\")}"),
        j(json!({"hello": "world"}))
    );
    assert_eq!(eval("${jsondecode(\"true\")}"), Value::Bool(true));
    let e = eval_err("${jsondecode(\"{\\\"a\\\": }\")}");
    assert_eq!(
        e.message,
        "jsondecode(): the string is not valid JSON: expected value at line 1, column 7 of the JSON"
    );
    assert_eq!(
        eval("${yamlencode(jsondecode(\"{\\\"a\\\": \\\"b\\\", \\\"c\\\": \\\"d\\\"}\"))}"),
        s("\"a\": \"b\"\n\"c\": \"d\"\n")
    );
    assert_eq!(
        eval(
            "${yamlencode(jsondecode(\"{\\\"foo\\\": [1, {\\\"a\\\": \\\"b\\\", \\\"c\\\": \\\"d\\\"}, 3], \\\"bar\\\": \\\"baz\\\"}\"))}"
        ),
        s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
    );
    assert_eq!(
        eval("${yamlencode([[], [1, [2]], null])}"),
        s("- []\n- - 1\n  - - 2\n- null\n")
    );
    assert_eq!(eval("${yamlencode(\"a\\nb\")}"), s("\"a\\nb\"\n"));
    // What yamlencode writes, yamldecode reads back.
    assert_eq!(
        eval("${yamldecode(yamlencode(var.tags))}"),
        eval("${var.tags}")
    );
    assert_eq!(
        eval("${yamldecode(\"hello: world\\nnums: [1, 2.5]\\n3: true\\n\")}"),
        j(json!({"hello": "world", "nums": [1, 2.5], "3": true}))
    );
    assert_eq!(
        eval("${yamldecode(\"- a\\n- ~\\n\")}"),
        j(json!(["a", null]))
    );
    let e = eval_err("${yamldecode(\"a: [\")}");
    assert!(
        e.message
            .starts_with("yamldecode(): the string is not valid YAML (line"),
        "{e}"
    );
    let e = eval_err("${yamldecode(\"? [a]\\n: 1\\n\")}");
    assert!(e.message.contains("map key that is a list or a map"), "{e}");
    let e = eval_err("${jsondecode(1)}");
    assert_eq!(e.message, "jsondecode() expects a string, got a number");
}

#[test]
fn base64_and_url() {
    assert_eq!(
        eval("${base64encode(\"Hello World\")}"),
        s("SGVsbG8gV29ybGQ=")
    );
    assert_eq!(
        eval("${base64decode(\"SGVsbG8gV29ybGQ=\")}"),
        s("Hello World")
    );
    assert_eq!(eval("${urlencode(\"Hello World!\")}"), s("Hello+World%21"));
    assert_eq!(eval("${urlencode(\"☃\")}"), s("%E2%98%83"));
    assert_eq!(
        eval("${urlencode(\"foo:bar@localhost?foo=bar&bar=baz\")}"),
        s("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
    );
}

#[test]
fn hashes_and_uuids() {
    assert_eq!(
        eval("${md5(\"hello world\")}"),
        s("5eb63bbbe01eeed093cb22bb8f5acdc3")
    );
    assert_eq!(
        eval("${sha1(\"hello world\")}"),
        s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
    );
    assert_eq!(
        eval("${sha256(\"hello world\")}"),
        s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
    );
    assert_eq!(
        eval("${sha512(\"hello world\")}"),
        s(
            "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
        )
    );
    assert_eq!(
        eval("${base64sha256(\"hello world\")}"),
        s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
    );
    assert_eq!(
        eval("${base64sha512(\"hello world\")}"),
        s(
            "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="
        )
    );
    // Terraform's documented uuidv5 results.
    assert_eq!(
        eval("${uuidv5(\"dns\", \"www.terraform.io\")}"),
        s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
    );
    assert_eq!(
        eval("${uuidv5(\"url\", \"https://www.terraform.io/\")}"),
        s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")
    );
    assert_eq!(
        eval("${uuidv5(\"oid\", \"1.3.6.1.4\")}"),
        s("af9d40a5-7a36-5c07-b23a-851cd99fbfa5")
    );
    assert_eq!(
        eval("${uuidv5(\"x500\", \"CN=Example,C=GB\")}"),
        s("84e09961-4aa4-57f8-95b7-03edb1073253")
    );
    assert_eq!(
        eval("${uuidv5(\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\", \"www.terraform.io\")}"),
        s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
    );
    let e = eval_err("${uuidv5(\"nope\", \"x\")}");
    assert!(
        e.message.starts_with("uuidv5(): the namespace must be"),
        "{e}"
    );
    let e = eval_err("${sha256(var.names)}");
    assert_eq!(e.message, "sha256() expects a string, got a list");
}

#[test]
fn cidr_functions() {
    assert_eq!(
        eval("${cidrsubnet(\"172.16.0.0/12\", 4, 2)}"),
        s("172.18.0.0/16")
    );
    assert_eq!(
        eval("${cidrsubnet(\"10.1.2.0/24\", 4, 15)}"),
        s("10.1.2.240/28")
    );
    assert_eq!(
        eval("${cidrsubnet(\"fd00:fd12:3456:7890::/56\", 16, 162)}"),
        s("fd00:fd12:3456:7800:a200::/72")
    );
    assert_eq!(
        eval("${cidrsubnet(\"10.1.2.3/16\", 0, 0)}"),
        s("10.1.0.0/16")
    );
    assert_eq!(
        eval("${cidrhost(\"10.12.112.0/20\", 16)}"),
        s("10.12.112.16")
    );
    assert_eq!(
        eval("${cidrhost(\"10.12.112.0/20\", 268)}"),
        s("10.12.113.12")
    );
    assert_eq!(
        eval("${cidrhost(\"10.12.112.0/20\", -1)}"),
        s("10.12.127.255")
    );
    assert_eq!(
        eval("${cidrhost(\"fd00:fd12:3456:7890:00a2::/72\", 34)}"),
        s("fd00:fd12:3456:7890::22")
    );
    assert_eq!(
        eval("${cidrhost(\"::/0\", -1)}"),
        s("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    );
    assert_eq!(eval("${cidrnetmask(\"172.16.0.0/12\")}"), s("255.240.0.0"));
    assert_eq!(eval("${cidrnetmask(\"10.0.0.0/0\")}"), s("0.0.0.0"));
    // Leading zeros read as decimal, as Terraform.
    assert_eq!(eval("${cidrhost(\"010.0.0.0/8\", 1)}"), s("10.0.0.1"));
    assert_eq!(
        eval("${cidrsubnets(\"10.1.0.0/16\", 4, 4, 8, 4)}"),
        j(json!([
            "10.1.0.0/20",
            "10.1.16.0/20",
            "10.1.32.0/24",
            "10.1.48.0/20"
        ]))
    );
    assert_eq!(
        eval("${cidrsubnets(\"fd00:fd12:3456:7890::/56\", 16, 16, 16, 32)}"),
        j(json!([
            "fd00:fd12:3456:7800::/72",
            "fd00:fd12:3456:7800:100::/72",
            "fd00:fd12:3456:7800:200::/72",
            "fd00:fd12:3456:7800:300::/88"
        ]))
    );
    let src = "${cidrsubnet(\"10.0.0.0/30\", 4, 0)}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "cidrsubnet(): the prefix has only 2 bits left to add, so argument 2 is too many"
    );
    assert_eq!(slice(src, &e.span), "4");
    let e = eval_err("${cidrsubnet(\"10.0.0.0/16\", 2, 4)}");
    assert!(e.message.contains("does not fit in the added bits"), "{e}");
    let e = eval_err("${cidrhost(\"10.0.0.0/30\", 4)}");
    assert!(
        e.message
            .contains("outside the prefix, which has 2 host bits"),
        "{e}"
    );
    let e = eval_err("${cidrhost(\"10.0.0.0/30\", -5)}");
    assert!(e.message.contains("outside the prefix"), "{e}");
    let e = eval_err("${cidrnetmask(\"fd00::/8\")}");
    assert!(e.message.contains("IPv6 prefixes have no netmask"), "{e}");
    let src = "${cidrhost(\"10.0.0/8\", 1)}";
    let e = eval_err(src);
    assert_eq!(e.message, "cidrhost(): argument 1 is not a CIDR prefix");
    assert_eq!(slice(src, &e.span), "\"10.0.0/8\"");
    let e = eval_err("${cidrsubnets(\"10.0.0.0/30\", 1, 1, 1)}");
    assert_eq!(
        e.message,
        "cidrsubnets(): not enough address space left for the subnet of argument 4"
    );
}
