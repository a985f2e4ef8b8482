// The server example of the original node-rtmpapi README, kept as it was written:
// only its syntax slips are mended (`case "connect":`, `rtmpServer.createServer`) and
// its "...." filled in with the replies a publisher waits for. It prints each message
// that arrives, one line each, and listens on $PORT (default 1935).

var rtmpApi = require('..');
var rtmpServer = rtmpApi.rtmpServer();

var server = rtmpServer.createServer(function(rtmpSession) {
   rtmpSession.msg.loop(null,{
      "amf0cmd": function(chunk) {
         var msg = chunk.chunk.msg;
         console.log('amf0cmd ' + JSON.stringify(msg));
         switch(msg.cmd) {
            case "connect":
                chunk.sendSetChunkSize(4096);
                chunk.sendSetWindowSize(10000000);
                chunk.sendSetPeerBw(10000000,1);
                chunk.sendAmf0EncCmdMsg({
                   cmd: "_result",
                   transId: msg.transId,
                   cmdObj: {
                      fmsVer: "FMS/3,5,5,2004",
                      capabilities: 31,
                      mode: 1
                   },
                   info: {
                      level: "status",
                      code: "NetConnection.Connect.Success",
                      description: "Connection succeeded.",
                      clientId: 1337,
                      objectEncoding: 0
                   }
                });
                chunk.sendUserControlMsg(0,1);
                break;
            case "FCPublish":
                chunk.sendAmf0EncCmdMsg({
                   cmd: "onFCPublish",
                   transId: 0,
                   cmdObj: null,
                   info: { code: "NetStream.Publish.Start", description: msg.streamId }
                });
                break;
            case "createStream":
                chunk.sendAmf0EncCmdMsg({
                   cmd: "_result",
                   transId: msg.transId,
                   cmdObj: null,
                   info: 1
                });
                break;
            case "publish":
                chunk.sendAmf0EncCmdMsg({
                   cmd: "onStatus",
                   transId: 0,
                   cmdObj: null,
                   info: {
                      level: "status",
                      code: "NetStream.Publish.Start",
                      description: "Publishing " + msg.name + "."
                   }
                });
                break;
            case "releaseStream":
                chunk.sendAmf0EncCmdMsg({
                   cmd: "_result",
                   transId: msg.transId,
                   cmdObj: null,
                   info: null
                });
                break;
            default:
         }
      },
      "amf0meta": function(chunk) {
         console.log('amf0meta ' + JSON.stringify(chunk.chunk.msg.dec));
      },
      "audio": function(chunk) {
         console.log('audio ' + chunk.chunk.timestamp + ' ' + chunk.chunk.data.length + ' ' + chunk.chunk.msgStreamId);
      },
      "video": function(chunk) {
         console.log('video ' + chunk.chunk.timestamp + ' ' + chunk.chunk.data.length + ' ' + chunk.chunk.msgStreamId);
      }
   });
   rtmpSession.sock.on('close', function() {
      console.log('close');
   });
}).listen(Number(process.env.PORT || 1935), '127.0.0.1', function() {
   console.log('listening on rtmp://127.0.0.1:' + server.address().port);
});
