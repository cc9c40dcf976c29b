//! Messages about VPP itself rather than its dataplane: control_ping, show_version,
//! show_vpe_system_time, show_threads, api_versions, get_first_msg_id, memclnt_keepalive,
//! cli_inband (through [`crate::cli`]), sockclnt_delete, and what only newer releases have
//! (`get_api_json`, `ip_table_add_del_v2` in 25.06). Their types did not change across the
//! releases, so they are registered once for all of them.
//!
//! `sockclnt_create` is not here: the server answers it, since it carries no client index.

use binapi::messages as m;
use binapi::types::{ModuleVersion, ThreadData, Timestamp};

use super::{Answer, Ctx, Registry, request, stream};
use crate::state::{Retval, VppResult};

pub fn register(r: &mut Registry) {
    r.add::<m::ControlPing>(Answer::Reply, |c, p| request(c, p, control_ping));
    r.add::<m::ShowVersion>(Answer::Reply, |c, p| request(c, p, show_version));
    r.add::<m::ShowVpeSystemTime>(Answer::Reply, |c, p| request(c, p, system_time));
    r.add::<m::ShowThreads>(Answer::Reply, |c, p| request(c, p, show_threads));
    r.add::<m::ApiVersions>(Answer::Reply, |c, p| request(c, p, api_versions));
    r.add::<m::GetFirstMsgId>(Answer::Reply, |c, p| request(c, p, get_first_msg_id));
    r.add::<m::MemclntKeepalive>(Answer::Reply, |c, p| request(c, p, keepalive));
    r.add::<m::CliInband>(Answer::Reply, |c, p| request(c, p, cli_inband));
    r.add::<m::SockclntDelete>(Answer::Stream, |c, p| stream(c, p, sockclnt_delete));
}

/// What 25.06 adds: `get_api_json` (24.06+) and `ip_table_add_del_v2` (24.10+).
pub fn register_v2506(r: &mut Registry) {
    r.add::<m::GetApiJson>(Answer::Reply, |c, p| request(c, p, get_api_json));
    r.add::<m::IpTableAddDelV2>(Answer::Reply, |c, p| request(c, p, ip_table_add_del_v2));
}

fn control_ping(ctx: &mut Ctx<'_>, _m: m::ControlPing) -> VppResult<m::ControlPingReply> {
    Ok(m::ControlPingReply {
        retval: 0,
        client_index: ctx.client_index,
        vpe_pid: ctx.sys.pid,
    })
}

fn show_version(ctx: &mut Ctx<'_>, _m: m::ShowVersion) -> VppResult<m::ShowVersionReply> {
    Ok(m::ShowVersionReply {
        retval: 0,
        program: "vpe".to_owned(),
        version: format!("{}-release", ctx.vpp.version),
        build_date: "2026-01-01T00:00:00".to_owned(),
        build_directory: "/vpp-sim".to_owned(),
    })
}

fn system_time(
    _ctx: &mut Ctx<'_>,
    _m: m::ShowVpeSystemTime,
) -> VppResult<m::ShowVpeSystemTimeReply> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    Ok(m::ShowVpeSystemTimeReply {
        retval: 0,
        vpe_system_time: Timestamp(now),
    })
}

fn show_threads(ctx: &mut Ctx<'_>, _m: m::ShowThreads) -> VppResult<m::ShowThreadsReply> {
    Ok(m::ShowThreadsReply {
        retval: 0,
        thread_data: vec![ThreadData {
            id: 0,
            name: "vpp_main".to_owned(),
            type_: String::new(),
            pid: ctx.sys.pid,
            cpu_id: 0,
            core: 0,
            cpu_socket: 0,
        }],
    })
}

/// One entry per module with messages, with the semantic version of its `.api.json`.
fn api_versions(ctx: &mut Ctx<'_>, _m: m::ApiVersions) -> VppResult<m::ApiVersionsReply> {
    let versions = crate::api_json::module_versions(ctx.sys.release.version);
    let api_versions = ctx
        .sys
        .release
        .files
        .iter()
        .map(|f| {
            let [major, minor, patch] = versions.get(f.module).copied().unwrap_or_default();
            ModuleVersion {
                major,
                minor,
                patch,
                name: f.module.to_owned(),
            }
        })
        .collect();
    Ok(m::ApiVersionsReply {
        retval: 0,
        api_versions,
    })
}

/// `get_first_msg_id("<module>_<file crc>")`: the id of the module's first message, or -7
/// with id `0xffff` when no module has that name and CRC.
fn get_first_msg_id(ctx: &mut Ctx<'_>, m: m::GetFirstMsgId) -> VppResult<m::GetFirstMsgIdReply> {
    let first = ctx
        .sys
        .release
        .files
        .iter()
        .find(|f| {
            let crc = f.version_crc.trim_start_matches("0x");
            m.name == format!("{}_{crc}", f.module)
        })
        .and_then(|f| f.messages.first())
        .and_then(|name| ctx.out.table.id(name))
        .ok_or(Retval::INVALID_VALUE)?;
    Ok(m::GetFirstMsgIdReply {
        retval: 0,
        first_msg_id: first,
    })
}

fn keepalive(_ctx: &mut Ctx<'_>, _m: m::MemclntKeepalive) -> VppResult<m::MemclntKeepaliveReply> {
    Ok(m::MemclntKeepaliveReply { retval: 0 })
}

fn cli_inband(ctx: &mut Ctx<'_>, m: m::CliInband) -> VppResult<m::CliInbandReply> {
    let reply = crate::cli::execute(ctx.vpp, ctx.sys.pid, &m.cmd);
    Ok(m::CliInbandReply {
        retval: reply.retval,
        reply: reply.text,
    })
}

/// `sockclnt_delete`: response 1 and the registration's connection closes; an unknown
/// index gets -1 and nothing closes.
fn sockclnt_delete(ctx: &mut Ctx<'_>, m: m::SockclntDelete) {
    let response = if ctx.sys.clients.contains(&m.index) {
        ctx.sys.close.push(m.index);
        1
    } else {
        -1
    };
    ctx.out.reply(&m::SockclntDeleteReply { response });
}

fn get_api_json(ctx: &mut Ctx<'_>, _m: m::GetApiJson) -> VppResult<m::GetApiJsonReply> {
    Ok(m::GetApiJsonReply {
        retval: 0,
        json: crate::api_json::api_json(ctx.sys.release.version),
    })
}

fn ip_table_add_del_v2(
    ctx: &mut Ctx<'_>,
    m: m::IpTableAddDelV2,
) -> VppResult<m::IpTableAddDelV2Reply> {
    let t = &m.table;
    ctx.vpp
        .ip_table_add_del(m.is_add, t.table_id, t.is_ip6, &t.name);
    Ok(m::IpTableAddDelV2Reply { retval: 0 })
}
