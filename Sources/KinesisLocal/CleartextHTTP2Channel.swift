import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOHTTP2
import NIOTLS

/// HTTP/1.1 and HTTP/2 on one plain (unencrypted) port: a connection that opens with HTTP/2's
/// connection preface (`PRI * HTTP/2.0`, "prior knowledge", as the Java SDK's Netty client
/// speaks HTTP/2 to an `http://` endpoint) is served as HTTP/2, any other as HTTP/1.1.
///
/// The first bytes decide, and the decision is handed to NIO's protocol negotiation handler as
/// if TLS had negotiated it, so both protocols are set up by Hummingbird's own channels.
struct CleartextHTTP2Channel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<NIONegotiatedHTTPVersion<HTTP1Channel.Value, HTTP2Channel.Value>>
        let channel: any Channel
    }

    let http1: HTTP1Channel
    let http2: HTTP2Channel
    /// How long a connection may take to send enough bytes to tell the protocols apart.
    let firstBytesTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<NIONegotiatedHTTPVersion<HTTP1Channel.Value, HTTP2Channel.Value>> {
                result, channel in
                if case .negotiated("h2") = result {
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                }
                return http1.setup(channel: channel, logger: logger).map { .http1_1($0) }
            }
            try channel.pipeline.syncOperations.addHandler(PrefaceSniffer(timeout: firstBytesTimeout))
            try channel.pipeline.syncOperations.addHandler(negotiation)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1_1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("connection closed before its protocol was known: \(error)")
        }
    }
}

/// Reads the first bytes of a connection, says which protocol they begin (as a TLS handshake
/// result naming `h2`, or none for HTTP/1.1), passes them on, and leaves the pipeline. A
/// connection that sends too little for too long is closed.
final class PrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    let timeout: TimeAmount
    private var buffered: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var earlier = buffered {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        let seen = Array(bytes.readableBytesView.prefix(Self.preface.count))
        let matches = seen.elementsEqual(Self.preface.prefix(seen.count))
        guard !matches || seen.count == Self.preface.count else {
            buffered = bytes  // could still be the preface: wait for more
            return
        }
        buffered = nil
        context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: matches ? "h2" : nil))
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
