using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Console.Bench;

/// <summary>
/// Kubernetes-like objects as the API server stores them in etcd, deterministic from a seed: object <c>i</c> at
/// version <c>v</c> is always the same bytes. Pods, ConfigMaps and Secrets are protobuf-shaped (the "k8s\0" envelope
/// around an Unknown{TypeMeta, raw}, as built-in kinds are stored), custom resources (Argo CD Applications, cert-manager
/// Certificates) are JSON, as CRDs are stored. Values carry what makes real ones compress the way they do: repeated
/// field names and label keys, managedFields mirroring the object's own fields (FieldsV1 is JSON even inside protobuf),
/// but also what does not compress: uids, image digests, container ids, IPs, hashes, and Secrets encrypted at rest
/// (k8s:enc:aescbc:v1: then ciphertext). resourceVersion is not in the value (the API server derives it from etcd's
/// mod revision), so an update changes what a real one does: timestamps, generation, restart counts, conditions, status.
/// </summary>
internal sealed class K8sObjects(int seed)
{
    private static readonly string[] Namespaces =
    [
        "kube-system", "default", "monitoring", "ingress-nginx", "cert-manager", "argocd", "logging", "payments-prod",
        "payments-staging", "checkout-prod", "search-prod", "data-pipeline", "ml-serving", "identity", "web-frontend", "batch-jobs",
    ];

    private static readonly string[] Apps =
    [
        "api", "worker", "frontend", "gateway", "scheduler", "indexer", "exporter", "controller", "cache", "db-proxy",
        "notifier", "billing", "auth", "ranker", "ingest",
    ];

    private static readonly string[] EnvNames =
    [
        "LOG_LEVEL", "LOG_FORMAT", "HTTP_PORT", "GRPC_PORT", "METRICS_PORT", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME",
        "REDIS_URL", "KAFKA_BROKERS", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "FEATURE_FLAGS", "CACHE_TTL_SECONDS",
        "MAX_CONNECTIONS", "REQUEST_TIMEOUT", "AWS_REGION", "S3_BUCKET", "JAVA_OPTS", "GOMAXPROCS", "TZ", "POD_NAME", "POD_IP",
    ];

    private static readonly string[] Sidecars = ["istio-proxy", "log-shipper", "config-reloader", "oauth-proxy"];

    private static readonly string[] PodConditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];

    private static readonly string[] AppResources = ["Deployment", "Service", "ConfigMap", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"];

    private static readonly string[] Kinds = ["pods", "configmaps", "secrets", "argoproj.io/applications", "cert-manager.io/certificates"];

    private static readonly DateTime Epoch = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The kind of object <paramref name="index"/>: half pods, then custom resources, ConfigMaps and Secrets.</summary>
    public static string KindOf(int index) => (index % 20) switch
    {
        < 10 => Kinds[0],
        < 13 => Kinds[1],
        < 15 => Kinds[2],
        < 18 => Kinds[3],
        _ => Kinds[4],
    };

    public string Key(int index)
    {
        var shape = Shape(index);
        return $"/registry/{KindOf(index)}/{shape.Namespace}/{shape.Name}";
    }

    /// <summary>The stored bytes of object <paramref name="index"/> after <paramref name="version"/> updates.</summary>
    public byte[] Value(int index, int version)
    {
        // A kind's fixed part (metadata, a pod's first container) makes the first guess miss its size: aim again
        // with the budget corrected by the miss, a few times, the same way for every version.
        var shape = Shape(index);
        var budget = shape.Budget;
        var value = Build(shape, index, version);
        for (var attempt = 0; attempt < 3 && Math.Abs(value.Length - shape.Budget) > shape.Budget / 8; attempt++)
        {
            budget = Math.Max(0, budget + (shape.Budget - value.Length));
            value = Build(shape with { Budget = budget }, index, version);
        }

        return value;
    }

    private byte[] Build(Shape shape, int index, int version)
    {
        var changes = new Random(Mix(seed, index, version, 7));
        var now = shape.Created.AddSeconds((version * 97) + changes.Next(60));
        return KindOf(index) switch
        {
            "pods" => Protobuf("v1", "Pod", Pod(shape, version, now, changes)),
            "configmaps" => Protobuf("v1", "ConfigMap", ConfigMap(shape, version, now, changes)),
            "secrets" => EncryptedAtRest(shape, version),
            "argoproj.io/applications" => Json("argoproj.io/v1alpha1", "Application", Application(shape, version, now, changes)),
            _ => Json("cert-manager.io/v1", "Certificate", Certificate(shape, version, now, changes)),
        };
    }

    /// <summary>What does not change between versions: names, uids, the size the object aims at (1–16 KiB, log-uniform).</summary>
    private Shape Shape(int index)
    {
        var random = new Random(Mix(seed, index));
        var ns = Namespaces[random.Next(Namespaces.Length)];
        var app = Apps[random.Next(Apps.Length)];
        var template = Hex(random, 10);
        var name = KindOf(index) switch
        {
            "pods" => $"{app}-{template}-{Hex(random, 5)}",
            "secrets" => $"{app}-{(random.Next(2) == 0 ? "tls" : "credentials")}-{index}",
            _ => $"{app}-{index}",
        };
        var budget = (int)(1024 * Math.Pow(2, 4 * random.NextDouble()));
        return new Shape(index, random.Next(), ns, app, name, template, Uid(random), Epoch.AddSeconds(index * 13), budget);
    }

    private static Obj Metadata(Shape s, int version, DateTime now, string manager, Obj fields, Random changes)
    {
        var labels = new Obj()
            .Add("app.kubernetes.io/name", s.App)
            .Add("app.kubernetes.io/instance", $"{s.App}-{s.Namespace}")
            .Add("app.kubernetes.io/part-of", s.Namespace)
            .Add("app.kubernetes.io/managed-by", "argocd")
            .Add("pod-template-hash", s.Template);
        return new Obj()
            .Add("name", s.Name)
            .Add("namespace", s.Namespace)
            .Add("uid", s.Uid)
            .Add("generation", (long)(1 + (version / 5)))
            .Add("creationTimestamp", Time(s.Created))
            .Add("labels", labels)
            .Add("annotations", new Obj()
                .Add("prometheus.io/scrape", "true")
                .Add("prometheus.io/port", "9090")
                .Add("argocd.argoproj.io/tracking-id", $"{s.App}:apps/Deployment:{s.Namespace}/{s.App}"))
            .Add("ownerReferences", new object[]
            {
                new Obj().Add("apiVersion", "apps/v1").Add("kind", "ReplicaSet").Add("name", $"{s.App}-{s.Template}")
                    .Add("uid", s.Uid[..24] + s.Template[..8] + "dead").Add("controller", true).Add("blockOwnerDeletion", true),
            })
            .Add("managedFields", new object[]
            {
                ManagedField("kube-controller-manager", "Update", s.Created, null, fields),
                ManagedField(manager, "Update", now.AddSeconds(-changes.Next(30)), "status", fields),
            });
    }

    /// <summary>A managedFields entry: FieldsV1 mirrors the object's own field names with "f:" prefixes, as JSON.</summary>
    private static Obj ManagedField(string manager, string operation, DateTime time, string? subresource, Obj fields)
    {
        var entry = new Obj().Add("manager", manager).Add("operation", operation).Add("apiVersion", "v1").Add("time", Time(time))
            .Add("fieldsType", "FieldsV1").Add("fieldsV1", new RawJson(FieldsV1(fields)));
        return subresource is null ? entry : entry.Add("subresource", subresource);
    }

    private static Obj FieldsV1(Obj fields)
    {
        var mirror = new Obj();
        foreach (var (key, value) in fields)
        {
            mirror.Add(key.StartsWith("k:", StringComparison.Ordinal) ? key : "f:" + key, value is Obj child ? FieldsV1(child) : new Obj());
        }

        return mirror;
    }

    private static Obj Pod(Shape s, int version, DateTime now, Random changes)
    {
        var random = new Random(s.Structure);
        var containers = new List<object>();
        var statuses = new List<object>();
        var fieldNames = new Obj();
        var units = 0;
        var count = 1 + random.Next(3);
        for (var c = 0; c < count; c++)
        {
            var name = c == 0 ? s.App : Sidecars[random.Next(Sidecars.Length)];
            var image = $"registry.example.com/{s.Namespace}/{name}:v1.{random.Next(40)}.{random.Next(10)}@sha256:{Hex(random, 64)}";
            var env = new List<object>();
            var envs = (s.Budget - 3000) / count / 70;
            for (var e = 0; e < Math.Max(2, envs); e++, units++)
            {
                var envName = EnvNames[e % EnvNames.Length] + (e >= EnvNames.Length ? "_" + (e / EnvNames.Length).ToString(CultureInfo.InvariantCulture) : string.Empty);
                env.Add(new Obj().Add("name", envName).Add("value", (e % 4) switch
                {
                    0 => "info",
                    1 => $"{s.App}.{s.Namespace}.svc.cluster.local:{8000 + random.Next(1000)}",
                    2 => Hex(random, 16),
                    _ => random.Next(100000).ToString(CultureInfo.InvariantCulture),
                }));
            }

            var container = new Obj().Add("name", name).Add("image", image).Add("imagePullPolicy", "IfNotPresent")
                .Add("ports", new object[] { new Obj().Add("name", "http").Add("containerPort", 8080L).Add("protocol", "TCP") })
                .Add("env", env.ToArray())
                .Add("resources", new Obj()
                    .Add("limits", new Obj().Add("cpu", "1").Add("memory", $"{256 << random.Next(4)}Mi"))
                    .Add("requests", new Obj().Add("cpu", $"{100 * (1 + random.Next(5))}m").Add("memory", "128Mi")))
                .Add("volumeMounts", new object[]
                {
                    new Obj().Add("name", "config").Add("mountPath", "/etc/" + s.App).Add("readOnly", true),
                    new Obj().Add("name", "kube-api-access-" + Hex(random, 5)).Add("mountPath", "/var/run/secrets/kubernetes.io/serviceaccount").Add("readOnly", true),
                })
                .Add("livenessProbe", new Obj().Add("httpGet", new Obj().Add("path", "/healthz").Add("port", 8080L).Add("scheme", "HTTP"))
                    .Add("initialDelaySeconds", 10L).Add("timeoutSeconds", 1L).Add("periodSeconds", 10L).Add("successThreshold", 1L).Add("failureThreshold", 3L))
                .Add("terminationMessagePath", "/dev/termination-log").Add("terminationMessagePolicy", "File");
            containers.Add(container);
            fieldNames.Add($"k:{{\"name\":\"{name}\"}}", container);
            var restarts = version / 7;
            statuses.Add(new Obj().Add("name", name)
                .Add("state", new Obj().Add("running", new Obj().Add("startedAt", Time(now.AddSeconds(-changes.Next(3600))))))
                .Add("ready", version % 9 != 8).Add("restartCount", (long)restarts).Add("image", image)
                .Add("imageID", image.Split('@')[0] + "@sha256:" + Hex(random, 64))
                .Add("containerID", "containerd://" + Hex(new Random(Mix(s.Structure, restarts)), 64)).Add("started", true));
        }

        var spec = new Obj()
            .Add("volumes", new object[]
            {
                new Obj().Add("name", "config").Add("configMap", new Obj().Add("name", s.App + "-config").Add("defaultMode", 420L)),
                new Obj().Add("name", "kube-api-access").Add("projected", new Obj().Add("sources", new object[]
                {
                    new Obj().Add("serviceAccountToken", new Obj().Add("expirationSeconds", 3607L).Add("path", "token")),
                    new Obj().Add("configMap", new Obj().Add("name", "kube-root-ca.crt").Add("items", new object[] { new Obj().Add("key", "ca.crt").Add("path", "ca.crt") })),
                })),
            })
            .Add("containers", containers.ToArray())
            .Add("restartPolicy", "Always").Add("terminationGracePeriodSeconds", 30L).Add("dnsPolicy", "ClusterFirst")
            .Add("serviceAccountName", s.App).Add("nodeName", $"ip-10-{random.Next(256)}-{random.Next(256)}-{random.Next(256)}.eu-west-1.compute.internal")
            .Add("securityContext", new Obj().Add("runAsNonRoot", true).Add("runAsUser", 10001L).Add("fsGroup", 10001L))
            .Add("schedulerName", "default-scheduler")
            .Add("tolerations", new object[]
            {
                new Obj().Add("key", "node.kubernetes.io/not-ready").Add("operator", "Exists").Add("effect", "NoExecute").Add("tolerationSeconds", 300L),
                new Obj().Add("key", "node.kubernetes.io/unreachable").Add("operator", "Exists").Add("effect", "NoExecute").Add("tolerationSeconds", 300L),
            })
            .Add("priority", 0L).Add("enableServiceLinks", true).Add("preemptionPolicy", "PreemptLowerPriority");
        var conditions = PodConditions
            .Select(type => (object)new Obj().Add("type", type).Add("status", "True").Add("lastProbeTime", null)
                .Add("lastTransitionTime", Time(type.Contains("Ready", StringComparison.Ordinal) ? now.AddSeconds(-changes.Next(600)) : s.Created)))
            .ToArray();
        var ip = $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";
        var status = new Obj().Add("phase", "Running").Add("conditions", conditions)
            .Add("hostIP", $"10.0.{random.Next(256)}.{random.Next(256)}").Add("podIP", ip)
            .Add("podIPs", new object[] { new Obj().Add("ip", ip) }).Add("startTime", Time(s.Created.AddSeconds(2)))
            .Add("containerStatuses", statuses.ToArray()).Add("qosClass", "Burstable");
        fieldNames.Add("spec", spec).Add("status", status);
        return new Obj().Add("metadata", Metadata(s, version, now, "kubelet", fieldNames, changes)).Add("spec", spec).Add("status", status);
    }

    private static Obj ConfigMap(Shape s, int version, DateTime now, Random changes)
    {
        var random = new Random(s.Structure);
        var text = new StringBuilder();
        var line = 0;
        while (text.Length < s.Budget - 1500)
        {
            var key = EnvNames[random.Next(EnvNames.Length)].ToLowerInvariant().Replace('_', '.');
            text.Append(CultureInfo.InvariantCulture, $"{s.App}.{key}.{line++} = ");
            text.Append(random.Next(3) switch
            {
                0 => random.Next(10000).ToString(CultureInfo.InvariantCulture),
                1 => $"http://{Apps[random.Next(Apps.Length)]}.{Namespaces[random.Next(Namespaces.Length)]}.svc:8080",
                _ => line % 10 == 0 ? Hex(changes, 12) : "true",
            });
            text.Append('\n');
        }

        var data = new Obj().Add("application.properties", text.ToString()).Add("version", version.ToString(CultureInfo.InvariantCulture));
        return new Obj().Add("metadata", Metadata(s, version, now, "argocd-controller", new Obj().Add("data", data), changes)).Add("data", data);
    }

    /// <summary>A Secret as etcd holds it with encryption at rest: the provider's prefix, then ciphertext (new on every write).</summary>
    private static byte[] EncryptedAtRest(Shape s, int version)
    {
        var prefix = "k8s:enc:aescbc:v1:key1:"u8;
        var value = new byte[prefix.Length + Math.Min(s.Budget, 8192)];
        prefix.CopyTo(value);
        new Random(Mix(s.Structure, version)).NextBytes(value.AsSpan(prefix.Length));
        return value;
    }

    private static Obj Application(Shape s, int version, DateTime now, Random changes)
    {
        var random = new Random(s.Structure);
        var revision = Hex(changes, 40);
        var resources = new List<object>();
        var fields = new Obj();
        for (var r = 0; resources.Count * 190 < s.Budget - 2500; r++)
        {
            var kind = AppResources[r % AppResources.Length];
            var name = $"{Apps[random.Next(Apps.Length)]}-{r}";
            resources.Add(new Obj().Add("group", kind is "Deployment" ? "apps" : string.Empty).Add("version", "v1").Add("kind", kind)
                .Add("namespace", s.Namespace).Add("name", name).Add("status", "Synced")
                .Add("health", new Obj().Add("status", changes.Next(20) == 0 ? "Progressing" : "Healthy")));
            fields.Add($"k:{{\"kind\":\"{kind}\",\"name\":\"{name}\"}}", new Obj().Add("status", new Obj()));
        }

        var spec = new Obj()
            .Add("project", s.Namespace)
            .Add("source", new Obj().Add("repoURL", $"https://git.example.com/platform/{s.Namespace}.git").Add("path", $"apps/{s.App}").Add("targetRevision", "main"))
            .Add("destination", new Obj().Add("server", "https://kubernetes.default.svc").Add("namespace", s.Namespace))
            .Add("syncPolicy", new Obj().Add("automated", new Obj().Add("prune", true).Add("selfHeal", true)).Add("syncOptions", new object[] { "CreateNamespace=true", "ServerSideApply=true" }));
        var status = new Obj()
            .Add("resources", resources.ToArray())
            .Add("sync", new Obj().Add("status", "Synced").Add("revision", revision))
            .Add("health", new Obj().Add("status", "Healthy"))
            .Add("reconciledAt", Time(now))
            .Add("operationState", new Obj().Add("phase", "Succeeded").Add("message", "successfully synced (all tasks run)")
                .Add("startedAt", Time(now.AddSeconds(-40))).Add("finishedAt", Time(now.AddSeconds(-31)))
                .Add("syncResult", new Obj().Add("revision", revision)))
            .Add("observedAt", Time(now)).Add("sourceType", "Kustomize");
        return new Obj().Add("metadata", Metadata(s, version, now, "argocd-application-controller", new Obj().Add("spec", spec).Add("status", new Obj().Add("resources", fields)), changes))
            .Add("spec", spec).Add("status", status);
    }

    private static Obj Certificate(Shape s, int version, DateTime now, Random changes)
    {
        var random = new Random(s.Structure);
        var names = new List<object>();
        while (names.Count * 40 < s.Budget - 2500)
        {
            names.Add($"{Apps[random.Next(Apps.Length)]}-{names.Count}.{s.Namespace}.example.com");
        }

        var spec = new Obj().Add("secretName", s.Name + "-tls").Add("dnsNames", names.ToArray())
            .Add("issuerRef", new Obj().Add("name", "letsencrypt-prod").Add("kind", "ClusterIssuer").Add("group", "cert-manager.io"))
            .Add("privateKey", new Obj().Add("algorithm", "ECDSA").Add("size", 256L).Add("rotationPolicy", "Always"))
            .Add("duration", "2160h0m0s").Add("renewBefore", "720h0m0s");
        var renewed = now.AddDays(-(version % 60));
        var status = new Obj()
            .Add("conditions", new object[] { new Obj().Add("type", "Ready").Add("status", "True").Add("reason", "Ready").Add("message", "Certificate is up to date and has not expired").Add("lastTransitionTime", Time(renewed)).Add("observedGeneration", (long)(1 + (version / 5))) })
            .Add("notBefore", Time(renewed)).Add("notAfter", Time(renewed.AddDays(90))).Add("renewalTime", Time(renewed.AddDays(60)))
            .Add("revision", (long)(1 + version)).Add("lastFailureTime", changes.Next(10) == 0 ? Time(now) : null);
        return new Obj().Add("metadata", Metadata(s, version, now, "cert-manager-certificates-readiness", new Obj().Add("spec", spec).Add("status", status), changes))
            .Add("spec", spec).Add("status", status);
    }

    /// <summary>Built-in kinds as the API server stores them: "k8s\0", then runtime.Unknown{TypeMeta, raw protobuf, "", ""}.</summary>
    private static byte[] Protobuf(string apiVersion, string kind, Obj body)
    {
        var raw = new ArrayBufferWriter<byte>();
        WriteMessage(raw, body);
        var unknown = new ArrayBufferWriter<byte>();
        var typeMeta = new ArrayBufferWriter<byte>();
        WriteBytes(typeMeta, 1, Encoding.UTF8.GetBytes(apiVersion));
        WriteBytes(typeMeta, 2, Encoding.UTF8.GetBytes(kind));
        WriteBytes(unknown, 1, typeMeta.WrittenSpan);
        WriteBytes(unknown, 2, raw.WrittenSpan);
        WriteBytes(unknown, 3, []);
        WriteBytes(unknown, 4, []);
        return [.. "k8s\0"u8, .. unknown.WrittenSpan];
    }

    private static byte[] Json(string apiVersion, string kind, Obj body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            WriteJson(json, new Obj().Add("apiVersion", apiVersion).Add("kind", kind).AddAll(body));
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    private static void WriteJson(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case long number:
                json.WriteNumberValue(number);
                break;
            case bool flag:
                json.WriteBooleanValue(flag);
                break;
            case RawJson raw:
                WriteJson(json, raw.Fields);
                break;
            case Obj obj:
                json.WriteStartObject();
                foreach (var (key, child) in obj)
                {
                    json.WritePropertyName(key);
                    WriteJson(json, child);
                }

                json.WriteEndObject();
                break;
            case object[] items:
                json.WriteStartArray();
                foreach (var item in items)
                {
                    WriteJson(json, item);
                }

                json.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"no encoding for {value.GetType()}");
        }
    }

    /// <summary>
    /// Protobuf's wire format over the same tree: a field number per name (as generated code has), strings and
    /// messages length-delimited, numbers and flags as varints, lists as repeated fields, FieldsV1 as its JSON bytes.
    /// </summary>
    private static void WriteMessage(ArrayBufferWriter<byte> output, Obj message)
    {
        foreach (var (key, value) in message)
        {
            WriteField(output, FieldNumber(key), value);
        }
    }

    private static void WriteField(ArrayBufferWriter<byte> output, int field, object? value)
    {
        switch (value)
        {
            case null:
                break;
            case string text:
                WriteBytes(output, field, Encoding.UTF8.GetBytes(text));
                break;
            case long number:
                WriteVarint(output, (ulong)(field << 3));
                WriteVarint(output, (ulong)number);
                break;
            case bool flag:
                WriteVarint(output, (ulong)(field << 3));
                WriteVarint(output, flag ? 1UL : 0UL);
                break;
            case RawJson raw:
                var buffer = new ArrayBufferWriter<byte>();
                using (var json = new Utf8JsonWriter(buffer))
                {
                    WriteJson(json, raw.Fields);
                }

                WriteBytes(output, field, buffer.WrittenSpan);
                break;
            case Obj obj:
                var nested = new ArrayBufferWriter<byte>();
                WriteMessage(nested, obj);
                WriteBytes(output, field, nested.WrittenSpan);
                break;
            case object[] items:
                foreach (var item in items)
                {
                    WriteField(output, field, item);
                }

                break;
            default:
                throw new InvalidOperationException($"no encoding for {value.GetType()}");
        }
    }

    private static int FieldNumber(string name)
    {
        var hash = 17;
        foreach (var c in name)
        {
            hash = unchecked((hash * 31) + c);
        }

        return 1 + (int)((uint)hash % 15);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> output, int field, ReadOnlySpan<byte> bytes)
    {
        WriteVarint(output, (ulong)((field << 3) | 2));
        WriteVarint(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        output.Advance(n);
    }

    /// <summary>A fixed mix of the numbers (HashCode.Combine is seeded per process, so it would not repeat across runs).</summary>
    private static int Mix(params int[] values)
    {
        var hash = 0x9E3779B97F4A7C15UL;
        foreach (var value in values)
        {
            hash ^= (uint)value;
            hash *= 0xBF58476D1CE4E5B9UL;
            hash ^= hash >> 31;
        }

        return (int)(hash ^ (hash >> 32));
    }

    private static string Time(DateTime time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Hex(Random random, int length)
    {
        var bytes = new byte[(length + 1) / 2];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..length];
    }

    private static string Uid(Random random)
    {
        var hex = Hex(random, 32);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private sealed record RawJson(Obj Fields);

    /// <summary>An object's fields in order, as the API server writes them.</summary>
    private sealed class Obj : List<(string Key, object? Value)>
    {
        public Obj Add(string key, object? value)
        {
            Add((key, value));
            return this;
        }

        public Obj AddAll(Obj other)
        {
            AddRange(other);
            return this;
        }
    }
}

/// <param name="Structure">Seeds what an object's shape draws (containers, env, resources), the same at every version.</param>
/// <param name="Budget">The size, in bytes, the object's value aims at.</param>
internal sealed record Shape(int Index, int Structure, string Namespace, string App, string Name, string Template, string Uid, DateTime Created, int Budget);
