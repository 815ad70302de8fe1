using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>A throw-away plant PKI written as PEM files: a CA, a server certificate for 127.0.0.1 and a client certificate.</summary>
internal sealed class TestCertificates
{
    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>Another CA's certificate: trusting it instead of <see cref="CaFile"/> must fail the handshake.</summary>
    public string OtherCaFile => Path.Combine(Directory, "other-ca.pem");

    public static TestCertificates Create()
    {
        var certificates = new TestCertificates(RepositoryPaths.NewTempDirectory());
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=TSViz Test Plant CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        File.WriteAllText(certificates.CaFile, ca.ExportCertificatePem());

        using var otherKey = RSA.Create(2048);
        var otherRequest = new CertificateRequest("CN=Someone Else's CA", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        otherRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var other = otherRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        File.WriteAllText(certificates.OtherCaFile, other.ExportCertificatePem());

        Issue(ca, "CN=127.0.0.1", server: true, certificates.ServerCertFile, certificates.ServerKeyFile, now);
        Issue(ca, "CN=tsviz-monitor", server: false, certificates.ClientCertFile, certificates.ClientKeyFile, now);
        return certificates;
    }

    private static void Issue(X509Certificate2 ca, string subject, bool server, string certFile, string keyFile, DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(29), serial);
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
